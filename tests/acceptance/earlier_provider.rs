//! The provider as an earlier commit built it, for upgrade tests: the commit's tree exported from
//! git into `target/upgrade-base/<commit>/src` and built by cargo with this build's own build
//! directory (`build.build-dir`), so every dependency compiled alike is reused and only the
//! rest (and the provider itself) is compiled. The binary lands in
//! `target/upgrade-base/<commit>/out/debug`, apart from today's. A file lock serialises
//! concurrent callers; a built binary is reused by later runs.
//!
//! The first build in a target directory holding today's recompiles 14 crates (1 min 4 s on this
//! project's 2-core machine, 2026-12-02): the provider, and ring and what depends on it, which
//! cargo names alike in both lockfiles but builds with another build-script output. Today's next
//! build recompiles those ten back once (25 s); later runs reuse the cached binary.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use crate::support::{project_root, today_provider_dir};

/// The last commit before the failover switch (9aa5fdc), the any-regions work (8fa68c1) and the
/// alarm changes (55581ac): what users built their systems with before this week.
pub const BEFORE_THE_SWITCH: &str = "bb0887b9dae9f9416a6ea2e1a824cc73c745dd58";

/// The directory holding the provider binary built from `commit` (for `dev_overrides`), built
/// on first use. Panics with the reason when it cannot be built: an upgrade test must not pass
/// without the earlier provider.
pub fn provider_dir(commit: &str) -> PathBuf {
    // target/debug: its parent is this build's target directory.
    let today = today_provider_dir();
    let target = today.parent().expect("the target directory");
    let base = target.join("upgrade-base").join(commit);
    std::fs::create_dir_all(&base).unwrap_or_else(|e| panic!("creating {}: {e}", base.display()));
    let lock = File::create(base.join("lock"))
        .unwrap_or_else(|e| panic!("creating the lock in {}: {e}", base.display()));
    lock.lock()
        .unwrap_or_else(|e| panic!("locking {}: {e}", base.display()));
    let out = base.join("out");
    let binary = out.join("debug").join("terraform-provider-tap");
    if !binary.exists() {
        let src = export(commit, &base);
        build(commit, &src, &out, target);
    }
    binary.parent().expect("binary dir").to_owned()
}

/// The tree of `commit` in `base/src`, exported whole before it is named (an interrupted export
/// is redone, never built).
fn export(commit: &str, base: &Path) -> PathBuf {
    let src = base.join("src");
    if src.exists() {
        return src;
    }
    have_commit(commit);
    let partial = base.join("src.partial");
    let _ = std::fs::remove_dir_all(&partial);
    std::fs::create_dir_all(&partial).expect("creating the export directory");
    let archive = Command::new("git")
        .args(["archive", "--format=tar", commit])
        .current_dir(project_root())
        .output()
        .unwrap_or_else(|e| panic!("running git archive {commit}: {e}"));
    assert!(
        archive.status.success(),
        "git archive {commit} failed (the upgrade test needs the full history; a shallow clone \
         lacks it): {}",
        String::from_utf8_lossy(&archive.stderr)
    );
    let mut tar = Command::new("tar")
        .args(["-x", "-C"])
        .arg(&partial)
        .stdin(std::process::Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("running tar: {e}"));
    std::io::Write::write_all(tar.stdin.as_mut().expect("tar stdin"), &archive.stdout)
        .expect("writing the archive to tar");
    drop(tar.stdin.take());
    assert!(
        tar.wait().expect("waiting for tar").success(),
        "extracting {commit}"
    );
    std::fs::rename(&partial, &src).expect("naming the export");
    src
}

/// Makes sure the repository holds `commit`: a shallow clone fetches the history it lacks from
/// its origin first.
fn have_commit(commit: &str) {
    let git = |args: &[&str]| {
        Command::new("git")
            .args(args)
            .current_dir(project_root())
            .output()
            .unwrap_or_else(|e| panic!("running git {args:?}: {e}"))
    };
    let object = format!("{commit}^{{commit}}");
    if git(&["cat-file", "-e", &object]).status.success() {
        return;
    }
    let shallow = git(&["rev-parse", "--is-shallow-repository"]);
    let fetch = if String::from_utf8_lossy(&shallow.stdout).trim() == "true" {
        git(&["fetch", "--quiet", "--unshallow", "origin"])
    } else {
        git(&["fetch", "--quiet", "origin", commit])
    };
    assert!(
        git(&["cat-file", "-e", &object]).status.success(),
        "the repository lacks {commit} and fetching it from origin failed: {}",
        String::from_utf8_lossy(&fetch.stderr)
    );
}

/// `cargo build --locked` of the provider in `src`, its binary in `out`, its intermediate
/// artifacts in `build_dir` beside today's.
fn build(commit: &str, src: &Path, out: &Path, build_dir: &Path) {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command
        .args(["build", "--locked", "--bin", "terraform-provider-tap"])
        .current_dir(src)
        .env("CARGO_TARGET_DIR", out)
        .env("CARGO_BUILD_BUILD_DIR", build_dir);
    // What cargo sets for this test process describes today's package: a crate whose build
    // tracks one of them (ring, CARGO_MANIFEST_DIR) would look changed to the build below.
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy();
        if [
            "CARGO_PKG_",
            "CARGO_BIN_",
            "CARGO_MANIFEST_",
            "CARGO_CRATE_",
        ]
        .iter()
        .any(|prefix| name.starts_with(prefix))
            || name == "CARGO_PRIMARY_PACKAGE"
            || name == "CARGO_TARGET_TMPDIR"
        {
            command.env_remove(name.as_ref());
        }
    }
    // The Makefile sets PROTOC (the venv's); a plain `cargo test` finds the same one.
    let venv_protoc = project_root().join(".venv/bin/protoc");
    if std::env::var_os("PROTOC").is_none() && venv_protoc.exists() {
        command.env("PROTOC", venv_protoc);
    }
    let started = Instant::now();
    let built = command
        .output()
        .unwrap_or_else(|e| panic!("running cargo to build the provider of {commit}: {e}"));
    let stderr = String::from_utf8_lossy(&built.stderr);
    assert!(
        built.status.success(),
        "building the provider of {commit} in {} failed:\n{stderr}",
        src.display()
    );
    eprintln!(
        "built the provider of {commit} in {:.0?} ({} crates compiled)",
        started.elapsed(),
        stderr.matches("Compiling ").count()
    );
}
