//! Shell completion: static scripts for the commands and options, and the mod ids of the pack
//! in the current folder completed as you type (`modhost call <TAB>`), through clap_complete's
//! environment-activated completion: the shell runs `COMPLETE=<shell> modhost -- <words>`.

use std::io::Write;

use clap::CommandFactory;
use clap_complete::engine::{ArgValueCandidates, CompletionCandidate};
use clap_complete::env::{Bash, Elvish, EnvCompleter, Fish, Powershell, Zsh};
use modhost::Overrides;
use modhost::{Config, Pack};

use super::Cli;

/// Answers a completion request and exits, when the shell made one.
pub fn answer_if_asked() {
    clap_complete::CompleteEnv::with_factory(Cli::command).complete();
}

/// The candidates for a mod id: the mods of the pack that `config.toml` (or `MODHOST_CONFIG`)
/// names here; none when it cannot be read.
pub fn mod_ids() -> ArgValueCandidates {
    ArgValueCandidates::new(|| {
        let Ok(config) = Config::load(&Overrides::default()) else {
            return Vec::new();
        };
        let Ok(pack) = Pack::load(&config) else {
            return Vec::new();
        };
        pack.mods
            .iter()
            .map(|entry| {
                CompletionCandidate::new(entry.id()).help(Some(entry.manifest.name.clone().into()))
            })
            .collect()
    })
}

/// `modhost completions <shell>`: the script that makes the shell ask `modhost` itself, so
/// mod ids complete too. It asks the `modhost` on `PATH`, not the file that wrote it, so it
/// keeps working when modhost is upgraded or moved.
pub fn write_script(shell: clap_complete::Shell, out: &mut impl Write) -> std::io::Result<()> {
    let shell: &dyn EnvCompleter = match shell {
        clap_complete::Shell::Bash => &Bash,
        clap_complete::Shell::Elvish => &Elvish,
        clap_complete::Shell::Fish => &Fish,
        clap_complete::Shell::PowerShell => &Powershell,
        _ => &Zsh,
    };
    shell.write_registration("COMPLETE", "modhost", "modhost", "modhost", out)
}
