//! Functions one typo away from a lifecycle hook (`onAtach`), which would never run, and what
//! a mod with one is told, by `run` and `check` alike.

/// Functions within two edits (ignoring case and `_`) of a hook's name, but not it, in a mod
/// that does not define that hook: `(function, the closest hook)`.
pub(crate) fn misspelled_hooks<'a>(functions: &[&'a str]) -> Vec<(&'a str, &'static str)> {
    // The hooks' names normalised once per process: every mod's start and `check` ask this.
    static HOOKS: std::sync::LazyLock<Vec<(String, &'static str)>> =
        std::sync::LazyLock::new(|| {
            super::surface::HOOKS
                .iter()
                .map(|(hook, _, _)| (normalize(hook), *hook))
                .collect()
        });
    let hooks = &*HOOKS;
    functions
        .iter()
        .filter(|function| !hooks.iter().any(|(_, hook)| hook == *function))
        .filter_map(|function| {
            let function_normalized = normalize(function);
            let (distance, hook) = hooks
                .iter()
                // Names whose lengths differ by more than two are more than two edits apart.
                .filter(|(normalized, _)| normalized.len().abs_diff(function_normalized.len()) <= 2)
                .map(|(normalized, hook)| {
                    (strsim::levenshtein(&function_normalized, normalized), *hook)
                })
                .min()?;
            let defined = functions.contains(&hook);
            (distance <= 2 && !defined).then_some((*function, hook))
        })
        .collect()
}

/// A name as hooks are compared: case and `_` ignored.
fn normalize(name: &str) -> String {
    name.to_ascii_lowercase().replace('_', "")
}

/// What to do about a misspelled hook.
pub(crate) const MISSPELLED_HOOK_HINT: &str =
    "rename the function to the hook's name, or give it a name no hook is close to";

/// What a mod with a misspelled hook is told, by `run` and `check` alike.
pub(crate) fn misspelled_hook(function: &str, hook: &str) -> String {
    format!("`{function}` is not a hook, so it never runs: did you mean `{hook}`?")
}

#[cfg(test)]
mod tests {
    use super::misspelled_hooks;

    #[test]
    fn near_misses_of_hooks_are_caught_and_real_names_are_not() {
        assert_eq!(
            misspelled_hooks(&["onAtach", "on_bootstrap", "hello"]),
            [("onAtach", "onAttach"), ("on_bootstrap", "onBootstrap")]
        );
        assert!(misspelled_hooks(&["onAttach", "onDetach", "attach", "onAttachment"]).is_empty());
        // A mod that defines the hook may also have a function with a similar name.
        assert!(misspelled_hooks(&["onAttach", "onAttack"]).is_empty());
    }
}
