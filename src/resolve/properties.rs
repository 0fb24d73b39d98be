//! Property tests of the resolver over random packs: the order respects every edge, does not
//! depend on the order mods are listed in, and every mod left out is accounted for by a cycle.

use std::collections::BTreeMap;

use proptest::prelude::*;

use super::tests::{ids, manifest};
use super::{Problem, Resolution, resolve};
use crate::manifest::{Manifest, Spanned};

/// Up to 40 mods; each edge list names other mods by index. `acyclic` only lets a mod depend
/// on mods with a smaller index.
fn pack(acyclic: bool) -> impl Strategy<Value = Vec<Manifest>> {
    (1usize..40)
        .prop_flat_map(move |count| {
            let edges = prop::collection::vec((0..count, 0..count, 0u8..4, -3i64..3), 0..count * 2);
            (Just(count), edges, prop::collection::vec(-3i64..3, count))
        })
        .prop_map(move |(count, edges, priorities)| {
            let mut manifests: Vec<Manifest> = (0..count)
                .map(|index| manifest(&format!("m{index:02}"), "1.0.0", priorities[index], &[]))
                .collect();
            for (from, to, kind, _) in edges {
                if acyclic && to >= from {
                    continue;
                }
                let target = format!("m{to:02}");
                let entry = &mut manifests[from];
                match kind {
                    0 => entry.dependencies.push(super::tests::requirement(&target)),
                    1 => entry
                        .optional_dependencies
                        .push(super::tests::requirement(&target)),
                    2 => entry.load_after.push(Spanned {
                        value: target,
                        span: 0..0,
                    }),
                    // `load_before` points the other way; in acyclic packs it goes to a later mod.
                    _ if acyclic => manifests[to].load_before.push(Spanned {
                        value: format!("m{from:02}"),
                        span: 0..0,
                    }),
                    _ => entry.load_before.push(Spanned {
                        value: target,
                        span: 0..0,
                    }),
                }
            }
            manifests
        })
}

fn run(manifests: &[Manifest]) -> Resolution {
    resolve(manifests, &BTreeMap::new(), &semver::Version::new(0, 1, 0))
}

proptest! {
    #[test]
    fn the_order_respects_every_edge(manifests in pack(false)) {
        let resolution = run(&manifests);
        for edge in &resolution.edges {
            let before = resolution.placements.get(&edge.before).map(|placement| placement.position);
            let after = resolution.placements.get(&edge.after).map(|placement| placement.position);
            match (before, after) {
                (Some(before), Some(after)) => prop_assert!(before < after, "{edge:?}"),
                // A mod can only be placed once everything it needs is.
                (None, Some(_)) => prop_assert!(false, "placed before a prerequisite: {edge:?}"),
                _ => {}
            }
        }
    }

    #[test]
    fn acyclic_packs_place_every_mod(manifests in pack(true)) {
        let resolution = run(&manifests);
        prop_assert_eq!(resolution.order.len(), manifests.len());
        prop_assert!(resolution.problems.is_empty());
    }

    #[test]
    fn the_order_does_not_depend_on_listing_order(manifests in pack(false), seed in any::<u64>()) {
        let mut shuffled = manifests.clone();
        // A deterministic shuffle from the seed.
        let mut state = seed | 1;
        for index in (1..shuffled.len()).rev() {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            shuffled.swap(index, (state % (index as u64 + 1)) as usize);
        }
        let original = run(&manifests);
        let reordered = run(&shuffled);
        prop_assert_eq!(ids(&manifests, &original.order), ids(&shuffled, &reordered.order));
    }

    #[test]
    fn every_unplaced_mod_is_explained_by_a_real_cycle(manifests in pack(false)) {
        let resolution = run(&manifests);
        let mut explained = vec![false; manifests.len()];
        for &position in &resolution.order {
            explained[position] = true;
        }
        for problem in &resolution.problems {
            let Problem::Cycle(cycle) = problem else { continue };
            // Each step leads to the next, and the last back to the first.
            for (step, &edge) in cycle.path.iter().enumerate() {
                let next = cycle.path[(step + 1) % cycle.path.len()];
                prop_assert_eq!(resolution.edges[edge].before, resolution.edges[next].after);
            }
            for position in cycle.mods(&resolution.edges).chain(cycle.entangled.iter().copied()).chain(cycle.stuck_behind.iter().copied()) {
                prop_assert!(!resolution.placements.contains_key(&position));
                explained[position] = true;
            }
        }
        prop_assert!(explained.iter().all(|&explained| explained));
    }
}
