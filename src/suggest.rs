//! "Did you mean …?": the known name closest to a misspelled one.

/// The candidate most like `unknown`, if one is close enough to be a likely typo. Case, `_`
/// and `-` are ignored, so `entryPoint` finds `entry_point`.
pub fn closest<'a>(
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
pub fn did_you_mean_or_list<'a>(
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

#[cfg(test)]
mod tests {
    use super::{closest, did_you_mean, did_you_mean_or_list};

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
