//! The release snapshot (`make release-snapshot`, in `dist/` or `TAP_RELEASE_DIR`) installed as
//! HCP Terraform installs a provider: from a registry-shaped source whose hashes come from the
//! `_SHA256SUMS`, with no `dev_overrides`. Run by `make release-check` (and so by `make test`),
//! which builds the snapshot first.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use crate::support::{
    assert_nothing_left, project_root, python, quickstart_applied, LocalAws, Workspace,
};

const PROVIDER: &str = "registry.terraform.io/tap-trading/tap";
/// The largest provider binary we ship; a dependency that bloats it should be noticed.
const SIZE_BUDGET: u64 = 35 * 1024 * 1024;

fn snapshot_dir() -> PathBuf {
    std::env::var("TAP_RELEASE_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| project_root().join("dist"))
}

/// `tools/provider-mirror.py` serving a snapshot over HTTPS on loopback.
struct Mirror {
    child: Child,
    url: String,
    ca: String,
    version: String,
    /// `h1:` hash of each `<os>_<arch>` zip's contents, as the mirror tool computed it.
    h1: BTreeMap<String, String>,
}

impl Mirror {
    fn serve(snapshot: &Path) -> Mirror {
        let mut child = Command::new(python())
            .arg(project_root().join("tools/provider-mirror.py"))
            .arg(snapshot)
            .arg(PROVIDER)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("starting the provider mirror");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("mirror stdout"))
            .read_line(&mut line)
            .expect("reading the mirror's address");
        let facts: serde_json::Value = serde_json::from_str(&line)
            .unwrap_or_else(|e| panic!("the mirror did not start on {}: {e}", snapshot.display()));
        let text = |v: &serde_json::Value| v.as_str().expect("a string").to_owned();
        Mirror {
            url: text(&facts["url"]),
            ca: text(&facts["ca"]),
            version: text(&facts["version"]),
            h1: facts["h1"]
                .as_object()
                .expect("h1 hashes")
                .iter()
                .map(|(platform, hash)| (platform.clone(), text(hash)))
                .collect(),
            child,
        }
    }

    /// The CLI configuration of a Terraform that installs providers from this mirror only.
    fn cli_config(&self) -> String {
        format!(
            "provider_installation {{\n  network_mirror {{\n    url = \"{}\"\n  }}\n}}\n",
            self.url
        )
    }

    fn workspace(&self, aws: &LocalAws) -> Workspace {
        Workspace::with_cli_config(aws, &self.cli_config()).env("SSL_CERT_FILE", &self.ca)
    }
}

impl Drop for Mirror {
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        let _ = self.child.wait();
    }
}

/// The `h1:` hashes recorded for the provider in the workspace's `.terraform.lock.hcl`.
fn locked_hashes(ws: &Workspace) -> Vec<String> {
    let lock = std::fs::read_to_string(ws.dir().join(".terraform.lock.hcl")).expect("lock file");
    lock.lines()
        .map(str::trim)
        .filter_map(|l| l.strip_prefix('"')?.strip_suffix("\","))
        .map(str::to_owned)
        .collect()
}

/// What `file` and `ldd` say of the binary Terraform installed, and its size.
fn assert_static_within_budget(binary: &Path) {
    let size = std::fs::metadata(binary)
        .unwrap_or_else(|e| panic!("{}: {e}", binary.display()))
        .len();
    assert!(size <= SIZE_BUDGET, "{size} bytes, over {SIZE_BUDGET}");
    let file = Command::new("file").arg("-b").arg(binary).output().unwrap();
    let file = String::from_utf8_lossy(&file.stdout);
    assert!(
        file.contains("statically linked") || file.contains("static-pie linked"),
        "file: {file}"
    );
    let ldd = Command::new("ldd").arg(binary).output().unwrap();
    let ldd = format!(
        "{}{}",
        String::from_utf8_lossy(&ldd.stdout),
        String::from_utf8_lossy(&ldd.stderr)
    );
    assert!(
        ldd.contains("not a dynamic executable") || ldd.contains("statically linked"),
        "ldd: {ldd}"
    );
}

#[tokio::test]
#[ignore = "needs the release snapshot: run by `make release-check`"]
async fn the_snapshot_installs_from_a_mirror_with_verified_hashes_and_runs_the_quickstart() {
    let snapshot = snapshot_dir();
    let sums = format!(
        "terraform-provider-tap_{}_SHA256SUMS",
        env!("CARGO_PKG_VERSION")
    );
    assert!(
        snapshot.join(&sums).exists(),
        "no {sums} in {}: run `make release-snapshot`",
        snapshot.display()
    );
    assert!(
        !snapshot.join(format!("{sums}.sig")).exists(),
        "a snapshot is unsigned"
    );
    let mirror = Mirror::serve(&snapshot);
    assert_eq!(mirror.version, env!("CARGO_PKG_VERSION"));
    assert!(mirror.h1.contains_key("linux_amd64"), "{:?}", mirror.h1);

    let aws = LocalAws::start();
    let ws = mirror
        .workspace(&aws)
        .env("TF_VAR_domain_name", "trading-demo.tap-test.net");
    ws.example("quickstart");
    let init = ws.must(&["init", "-input=false", "-no-color"]);
    let installed = format!(
        "Installed tap-trading/tap v{} (verified checksum)",
        mirror.version
    );
    assert!(init.stdout.contains(&installed), "{}", init.text());
    assert_eq!(locked_hashes(&ws), [mirror.h1["linux_amd64"].clone()]);

    // Every platform of the snapshot, fetched and checked against the _SHA256SUMS.
    let mut lock = vec!["providers", "lock", "-no-color"];
    let net_mirror = format!("-net-mirror={}", mirror.url);
    lock.push(&net_mirror);
    let platforms: Vec<String> = mirror.h1.keys().map(|p| format!("-platform={p}")).collect();
    lock.extend(platforms.iter().map(String::as_str));
    let locked = ws.must(&lock);
    for platform in mirror.h1.keys() {
        let retrieved = format!(
            "Retrieved tap-trading/tap {} for {platform} (verified checksum)",
            mirror.version
        );
        assert!(locked.stdout.contains(&retrieved), "{}", locked.text());
    }
    let mut want: Vec<String> = mirror.h1.values().cloned().collect();
    want.sort();
    assert_eq!(locked_hashes(&ws), want);

    let binary = ws
        .dir()
        .join(".terraform/providers")
        .join(PROVIDER)
        .join(&mirror.version)
        .join("linux_amd64/terraform-provider-tap");
    assert_static_within_budget(&binary);

    let run = ws.apply();
    assert!(
        !run.text().contains("development overrides"),
        "{}",
        run.text()
    );
    quickstart_applied(&aws, &run).await;
    ws.assert_plan_empty();
    ws.destroy();
    assert_nothing_left(&aws).await;
}

#[test]
#[ignore = "needs the release snapshot: run by `make release-check`"]
fn a_zip_that_does_not_match_the_sha256sums_is_refused() {
    let snapshot = snapshot_dir();
    let copy = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(&snapshot).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap();
        if path.to_string_lossy().ends_with("_SHA256SUMS") {
            // A digest of zeros for the linux_amd64 zip: the zip no longer matches its line.
            let text = std::fs::read_to_string(&path).unwrap();
            let forged: String = text
                .lines()
                .map(|l| match l.split_once("  ") {
                    Some((digest, file)) if file.ends_with("_linux_amd64.zip") => {
                        format!("{}  {file}\n", "0".repeat(digest.len()))
                    }
                    _ => format!("{l}\n"),
                })
                .collect();
            std::fs::write(copy.path().join(name), forged).unwrap();
        } else if path.is_file() {
            std::fs::copy(&path, copy.path().join(name)).unwrap();
        }
    }
    let mirror = Mirror::serve(copy.path());
    let aws = LocalAws::start();
    let ws = mirror.workspace(&aws);
    ws.config("");
    let init = ws.run(&["init", "-input=false", "-no-color"]);
    assert_ne!(init.code, 0, "{}", init.text());
    // Terraform wraps its diagnostics at 80 columns.
    let said = init.text().split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        said.contains("doesn't match the expected checksum \"zh:0000"),
        "{said}"
    );
    assert!(!ws
        .dir()
        .join(".terraform/providers")
        .join(PROVIDER)
        .exists());
}
