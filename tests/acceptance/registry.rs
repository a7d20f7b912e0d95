//! What a Registry release needs: the manifest, the GoReleaser layout, docs generated from the
//! schema (and current), and examples that Terraform accepts.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::{project_root, terraform_at_least, terraform_binary};

#[test]
fn manifest_declares_protocol_6() {
    let text =
        std::fs::read_to_string(project_root().join("terraform-registry-manifest.json")).unwrap();
    let manifest: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(manifest["version"], 1);
    assert_eq!(
        manifest["metadata"]["protocol_versions"],
        serde_json::json!(["6.0"])
    );
}

#[test]
fn goreleaser_builds_signs_and_names_what_the_registry_expects() {
    let text = std::fs::read_to_string(project_root().join(".goreleaser.yml")).unwrap();
    let config: serde_yaml::Value = serde_yaml::from_str(&text).unwrap();
    assert_eq!(config["version"], 2);
    assert_eq!(config["project_name"], "terraform-provider-tap");

    let build = &config["builds"][0];
    assert_eq!(build["builder"], "rust");
    assert_eq!(
        build["binary"], "terraform-provider-tap",
        "must equal the Cargo [[bin]] name"
    );
    let targets: Vec<&str> = build["targets"]
        .as_sequence()
        .unwrap()
        .iter()
        .filter_map(|t| t.as_str())
        .collect();
    for (os, arch) in [
        ("linux", "x86_64"),
        ("linux", "aarch64"),
        ("apple-darwin", "x86_64"),
        ("apple-darwin", "aarch64"),
        ("windows", "x86_64"),
        ("windows", "aarch64"),
    ] {
        assert!(
            targets
                .iter()
                .any(|t| t.starts_with(arch) && t.contains(os)),
            "no {arch} {os} target in {targets:?}"
        );
    }
    assert!(
        targets.contains(&"x86_64-unknown-linux-musl"),
        "HCP Terraform needs a static linux_amd64 build"
    );

    assert_eq!(config["archives"][0]["formats"][0], "zip");
    assert_eq!(
        config["archives"][0]["name_template"],
        "{{ .ProjectName }}_{{ .Version }}_{{ .Os }}_{{ .Arch }}"
    );
    let checksum = &config["checksum"];
    assert_eq!(
        checksum["name_template"],
        "{{ .ProjectName }}_{{ .Version }}_SHA256SUMS"
    );
    assert_eq!(checksum["algorithm"], "sha256");
    let manifest_copy = "{{ .ProjectName }}_{{ .Version }}_manifest.json";
    assert_eq!(
        checksum["extra_files"][0]["glob"],
        "terraform-registry-manifest.json"
    );
    assert_eq!(checksum["extra_files"][0]["name_template"], manifest_copy);
    assert_eq!(
        config["release"]["extra_files"][0]["name_template"],
        manifest_copy
    );

    let sign = &config["signs"][0];
    assert_eq!(sign["artifacts"], "checksum");
    let args: Vec<&str> = sign["args"]
        .as_sequence()
        .unwrap()
        .iter()
        .filter_map(|a| a.as_str())
        .collect();
    assert!(args.contains(&"--detach-sign"), "{args:?}");
    assert!(
        !args.contains(&"--armor"),
        "the Registry wants a binary signature"
    );
}

fn provider_dir() -> PathBuf {
    Path::new(env!("CARGO_BIN_EXE_terraform-provider-tap"))
        .parent()
        .unwrap()
        .to_owned()
}

#[test]
fn docs_are_generated_from_the_current_schema() {
    let output = Command::new(project_root().join("tools/docs.sh"))
        .arg("--check")
        .env("TAP_PROVIDER_DIR", provider_dir())
        // The docs show what only Terraform 1.14+ reads from the schema (identity, list
        // resources, actions): check them with the project's Terraform, whatever runs the tests.
        .env("TAP_TERRAFORM", project_root().join("bin/terraform"))
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    for page in ["docs/index.md", "docs/resources/session_table.md"] {
        let text = std::fs::read_to_string(project_root().join(page)).unwrap();
        assert!(
            text.starts_with("---\n") && text.contains("page_title:"),
            "{page}"
        );
        assert!(text.contains("## Schema"), "{page}");
    }
}

/// Every example directory, as Terraform sees it: a root module using the built provider.
fn example_dirs() -> Vec<PathBuf> {
    let examples = project_root().join("examples");
    let mut dirs = vec![
        examples.join("provider"),
        examples.join("quickstart"),
        examples.join("three-regions"),
        examples.join("custom-topology"),
    ];
    let mut kinds = vec!["resources", "data-sources"];
    if terraform_at_least(14, "action examples") {
        kinds.push("actions");
    }
    for kind in kinds {
        for entry in std::fs::read_dir(examples.join(kind)).unwrap() {
            dirs.push(entry.unwrap().path());
        }
    }
    dirs
}

#[test]
fn every_example_validates() {
    let cli_config = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(
        cli_config.path(),
        format!(
            "provider_installation {{\n  dev_overrides {{\n    \"tap-trading/tap\" = \"{}\"\n  }}\n  direct {{}}\n}}\n",
            provider_dir().display()
        ),
    )
    .unwrap();
    let identity = terraform_at_least(12, "import-by-identity examples");
    for dir in example_dirs() {
        let work = tempfile::tempdir().unwrap();
        let mut has_requirements = false;
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let by_identity = path.ends_with("import-by-identity.tf");
            if path.extension().is_some_and(|e| e == "tf") && (identity || !by_identity) {
                let text = std::fs::read_to_string(&path).unwrap();
                has_requirements |= text.contains("required_providers");
                std::fs::write(work.path().join(path.file_name().unwrap()), text).unwrap();
            }
        }
        if !has_requirements {
            std::fs::write(
                work.path().join("versions.tf"),
                "terraform {\n  required_providers {\n    tap = { source = \"tap-trading/tap\" }\n  }\n}\n",
            )
            .unwrap();
        }
        let output = Command::new(terraform_binary())
            .args(["validate", "-no-color"])
            .current_dir(work.path())
            .env("TF_CLI_CONFIG_FILE", cli_config.path())
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{} does not validate:\n{}{}",
            dir.display(),
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
}
