//! Which file-system events matter: a file in a mod folder (not an editor's scratch file), or
//! the configuration file.

use std::path::{Component, Path, PathBuf};

/// What an event touched.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Target {
    /// A file in (or the folder of) the mod folder with this name.
    ModFolder(String),
    Config,
}

pub(super) struct Filter {
    mods_dir: PathBuf,
    config_file: Option<PathBuf>,
}

impl Filter {
    /// `mods_dir` and `config_file` must be absolute, as the paths of events are.
    pub(super) fn new(mods_dir: PathBuf, config_file: Option<PathBuf>) -> Self {
        Self {
            mods_dir,
            config_file,
        }
    }

    pub(super) fn classify(&self, path: &Path) -> Option<Target> {
        if self.config_file.as_deref() == Some(path) {
            return Some(Target::Config);
        }
        let relative = path.strip_prefix(&self.mods_dir).ok()?;
        let mut components = relative.components();
        let Some(Component::Normal(folder)) = components.next() else {
            return None;
        };
        let folder = folder.to_str()?;
        if folder.starts_with('.') {
            return None;
        }
        let rest: Vec<&str> = components
            .filter_map(|component| component.as_os_str().to_str())
            .collect();
        let hidden_inside = rest
            .iter()
            .rev()
            .skip(1)
            .any(|directory| directory.starts_with('.'));
        if hidden_inside || rest.last().is_some_and(|name| is_scratch_file(name)) {
            return None;
        }
        Some(Target::ModFolder(folder.to_owned()))
    }
}

/// Swap, backup and lock files that editors write next to the file being edited.
fn is_scratch_file(name: &str) -> bool {
    name == "4913"
        || name == ".DS_Store"
        || name.ends_with('~')
        || name.starts_with(".#")
        || (name.starts_with('#') && name.ends_with('#'))
        || [".swp", ".swx", ".swo", ".tmp", ".bak"]
            .iter()
            .any(|extension| name.ends_with(extension))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filter() -> Filter {
        Filter::new(
            PathBuf::from("/game/mods"),
            Some(PathBuf::from("/game/config.toml")),
        )
    }

    fn classify(path: &str) -> Option<Target> {
        filter().classify(Path::new(path))
    }

    #[test]
    fn files_in_mod_folders_name_their_folder() {
        let ui = Some(Target::ModFolder("ui".to_owned()));
        assert_eq!(classify("/game/mods/ui/main.js"), ui);
        assert_eq!(classify("/game/mods/ui/lib/deep/util.lua"), ui);
        assert_eq!(classify("/game/mods/ui"), ui);
        assert_eq!(classify("/game/config.toml"), Some(Target::Config));
    }

    #[test]
    fn editor_droppings_and_hidden_places_are_ignored() {
        for path in [
            "/game/mods/ui/.main.js.swp",
            "/game/mods/ui/main.js~",
            "/game/mods/ui/4913",
            "/game/mods/ui/.#main.js",
            "/game/mods/ui/#main.js#",
            "/game/mods/ui/main.js.tmp",
            "/game/mods/.git/index",
            "/game/mods/ui/.git/HEAD",
            "/game/mods",
            "/game/other.txt",
            "/game/config.toml.swp",
        ] {
            assert_eq!(classify(path), None, "{path}");
        }
    }
}
