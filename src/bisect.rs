//! `modhost bisect` (SPEC section 14): the smallest set of mods for which a check fails, by
//! delta debugging (Zeller's ddmin) over the pack's mods. Every candidate set is tried with
//! what its mods require (so no run fails for a missing dependency), and each distinct set is
//! tried once. The predicate is the caller's: `check --smoke`, `modhost test`, or a command.

use std::collections::{BTreeMap, BTreeSet};

/// What a bisection found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Found {
    /// The whole pack passes: there is nothing to look for.
    NothingFails,
    /// It fails even with no mod at all: the cause is not a mod (the configuration, the
    /// command, the game).
    FailsWithoutMods,
    /// These mods fail, alone (one) or only together (several); with `required`, the mods
    /// they require that were part of every failing run.
    Culprits {
        mods: Vec<String>,
        required: Vec<String>,
    },
}

/// The outcome and how many runs it took.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bisection {
    pub found: Found,
    pub runs: usize,
}

/// Runs `fails` on sets of mods (each closed under `close`, which adds what a set requires)
/// to find a smallest set of `mods` that still fails. `progress` hears of each run: its number
/// and the size of the set tried.
pub fn bisect(
    mods: &[String],
    close: impl Fn(&[String]) -> BTreeSet<String>,
    mut fails: impl FnMut(&BTreeSet<String>) -> bool,
    mut progress: impl FnMut(usize, usize),
) -> Bisection {
    let mut tried: BTreeMap<BTreeSet<String>, bool> = BTreeMap::new();
    let mut runs = 0;
    let mut test = |candidate: &[String]| -> bool {
        let set = close(candidate);
        if let Some(known) = tried.get(&set) {
            return *known;
        }
        runs += 1;
        progress(runs, set.len());
        let failed = fails(&set);
        tried.insert(set, failed);
        failed
    };
    if !test(mods) {
        return Bisection {
            found: Found::NothingFails,
            runs,
        };
    }
    if test(&[]) {
        return Bisection {
            found: Found::FailsWithoutMods,
            runs,
        };
    }
    let mut current: Vec<String> = mods.to_vec();
    let mut granularity = 2;
    while current.len() >= 2 {
        let chunks = split(&current, granularity);
        if let Some(chunk) = chunks.iter().find(|chunk| test(chunk)) {
            current = chunk.clone();
            granularity = 2;
            continue;
        }
        let complement = (chunks.len() > 2)
            .then(|| {
                chunks.iter().find_map(|chunk| {
                    let rest: Vec<String> = current
                        .iter()
                        .filter(|id| !chunk.contains(id))
                        .cloned()
                        .collect();
                    test(&rest).then_some(rest)
                })
            })
            .flatten();
        if let Some(rest) = complement {
            current = rest;
            granularity = (granularity - 1).max(2);
            continue;
        }
        if granularity >= current.len() {
            break;
        }
        granularity = (granularity * 2).min(current.len());
    }
    let closed = close(&current);
    let required = closed
        .into_iter()
        .filter(|id| !current.contains(id))
        .collect();
    current.sort();
    Bisection {
        found: Found::Culprits {
            mods: current,
            required,
        },
        runs,
    }
}

/// `items` in `parts` nearly equal, non-empty chunks, in order.
fn split(items: &[String], parts: usize) -> Vec<Vec<String>> {
    let parts = parts.clamp(1, items.len().max(1));
    let mut chunks = Vec::with_capacity(parts);
    let mut start = 0;
    for index in 0..parts {
        let end = start + (items.len() - start) / (parts - index);
        chunks.push(items[start..end].to_vec());
        start = end;
    }
    chunks
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(count: usize) -> Vec<String> {
        (0..count).map(|index| format!("m{index:02}")).collect()
    }

    fn plain(set: &[String]) -> BTreeSet<String> {
        set.iter().cloned().collect()
    }

    fn culprits(found: &Found) -> Vec<&str> {
        match found {
            Found::Culprits { mods, .. } => mods.iter().map(String::as_str).collect(),
            Found::NothingFails | Found::FailsWithoutMods => Vec::new(),
        }
    }

    #[test]
    fn one_bad_mod_among_two_hundred_is_found_in_few_runs() {
        let mods = ids(200);
        let result = bisect(&mods, plain, |set| set.contains("m137"), |_, _| {});
        assert_eq!(culprits(&result.found), ["m137"]);
        assert!(result.runs <= 20, "{} runs", result.runs);
    }

    #[test]
    fn two_mods_that_fail_only_together_are_found_together() {
        let mods = ids(60);
        let result = bisect(
            &mods,
            plain,
            |set| set.contains("m03") && set.contains("m51"),
            |_, _| {},
        );
        assert_eq!(culprits(&result.found), ["m03", "m51"]);
    }

    #[test]
    fn a_passing_pack_has_nothing_to_find() {
        let result = bisect(&ids(10), plain, |_| false, |_, _| {});
        assert_eq!(
            result,
            Bisection {
                found: Found::NothingFails,
                runs: 1
            }
        );
    }

    #[test]
    fn every_set_tried_keeps_what_it_requires() {
        // m05 requires m04; the failure needs m05 and m09 together.
        let close = |set: &[String]| {
            let mut closed = plain(set);
            if closed.contains("m05") {
                closed.insert("m04".to_owned());
            }
            closed
        };
        let mut seen_without_requirement = false;
        let result = bisect(
            &ids(12),
            close,
            |set| {
                seen_without_requirement |= set.contains("m05") && !set.contains("m04");
                set.contains("m05") && set.contains("m09")
            },
            |_, _| {},
        );
        assert!(!seen_without_requirement);
        assert_eq!(
            result.found,
            Found::Culprits {
                mods: vec!["m05".into(), "m09".into()],
                required: vec!["m04".into()],
            }
        );
    }

    #[test]
    fn a_failure_without_any_mod_is_not_blamed_on_one() {
        let result = bisect(&ids(8), plain, |_| true, |_, _| {});
        assert_eq!(
            result,
            Bisection {
                found: Found::FailsWithoutMods,
                runs: 2
            }
        );
    }

    #[test]
    fn chunks_cover_the_items_in_order() {
        let items = ids(7);
        let chunks = split(&items, 3);
        assert_eq!(chunks.iter().map(Vec::len).collect::<Vec<_>>(), [2, 2, 3]);
        assert_eq!(chunks.concat(), items);
    }
}
