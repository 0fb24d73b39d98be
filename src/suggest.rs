//! "Did you mean …?": the known name closest to a misspelled one.

/// The candidate most like `unknown`, if one is close enough to be a likely typo. Case, `_`
/// and `-` are ignored, so `entryPoint` finds `entry_point`.
pub(crate) fn closest<'a>(
    unknown: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let normalize = |name: &str| name.to_ascii_lowercase().replace(['_', '-'], "");
    let wanted = normalize(unknown);
    candidates
        .into_iter()
        .map(|candidate| {
            (
                strsim::jaro_winkler(&wanted, &normalize(candidate)),
                candidate,
            )
        })
        .filter(|(score, _)| *score >= 0.85)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, candidate)| candidate)
}

/// "did you mean `x`?" for the closest candidate, if one is close enough.
pub fn did_you_mean<'a>(
    unknown: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<String> {
    closest(unknown, candidates).map(|similar| format!("did you mean `{similar}`?"))
}

/// [`did_you_mean`], else every candidate in backticks, as `listed` words it ("it declares
/// `a`, `b`"), or `none` when there are no candidates.
pub(crate) fn did_you_mean_or_list<'a>(
    unknown: &str,
    candidates: impl IntoIterator<Item = &'a str> + Clone,
    listed: impl FnOnce(&str) -> String,
    none: &str,
) -> String {
    if let Some(hint) = did_you_mean(unknown, candidates.clone()) {
        return hint;
    }
    let names: Vec<String> = candidates
        .into_iter()
        .map(|name| format!("`{name}`"))
        .collect();
    if names.is_empty() {
        none.to_owned()
    } else {
        listed(&names.join(", "))
    }
}

/// How many members [`missing_member`] lists before it says how many more there are.
const MEMBERS_LISTED: usize = 12;

/// What a mod hears, in every language, when it reads a member a namespace of the API lacks:
/// `game.sky.rainbow does not exist: did you mean game.sky.rain? (game.sky has rain, sun)`.
pub(crate) fn missing_member<'a>(
    path: &str,
    key: &str,
    members: impl IntoIterator<Item = &'a str>,
) -> String {
    let mut members: Vec<&str> = members.into_iter().collect();
    members.sort_unstable();
    members.dedup();
    let hint = closest(key, members.iter().copied())
        .map(|near| format!(": did you mean {path}.{near}?"))
        .unwrap_or_default();
    let listed = match members.len() {
        0 => return format!("{path}.{key} does not exist{hint} ({path} is empty)"),
        count if count > MEMBERS_LISTED => format!(
            "{}, and {} more",
            members[..MEMBERS_LISTED].join(", "),
            count - MEMBERS_LISTED
        ),
        _ => members.join(", "),
    };
    format!("{path}.{key} does not exist{hint} ({path} has {listed})")
}

#[cfg(test)]
mod tests {
    use super::{closest, did_you_mean, did_you_mean_or_list, missing_member};

    #[test]
    fn a_missing_member_is_named_with_its_likely_spelling_and_its_namespace() {
        assert_eq!(
            missing_member("game.sky", "moon", ["sun", "rain"]),
            "game.sky.moon does not exist (game.sky has rain, sun)"
        );
        assert_eq!(
            missing_member("modhost.log", "inf", ["info", "warn"]),
            "modhost.log.inf does not exist: did you mean modhost.log.info? (modhost.log has info, warn)"
        );
        let many: Vec<String> = (0..20).map(|n| format!("f{n:02}")).collect();
        assert!(
            missing_member("game", "zzz", many.iter().map(String::as_str))
                .ends_with("f10, f11, and 8 more)")
        );
    }

    #[test]
    fn finds_typos_and_other_spellings_but_not_strangers() {
        let fields = ["dependencies", "entry_point", "priority"];
        assert_eq!(closest("dependecies", fields), Some("dependencies"));
        assert_eq!(closest("entryPoint", fields), Some("entry_point"));
        assert_eq!(closest("colour", fields), None);
        assert_eq!(closest("gmae", ["game", "gui"]), Some("game"));
        assert_eq!(
            did_you_mean("gmae", ["game"]).as_deref(),
            Some("did you mean `game`?")
        );
        let hint = |candidates: &[&str]| {
            did_you_mean_or_list(
                "colour",
                candidates.iter().copied(),
                |list| format!("known: {list}"),
                "none known",
            )
        };
        assert_eq!(hint(&["size", "speed"]), "known: `size`, `speed`");
        assert_eq!(hint(&[]), "none known");
        assert_eq!(hint(&["color"]), "did you mean `color`?");
    }
}
