//! Cycles among the mods that no load order can place, each reported as a path `a -> b -> a`.
//!
//! Tarjan's algorithm splits the unplaced mods into strongly connected components; each
//! component with a cycle is reported once, as the shortest cycle through its smallest id, with
//! the other mods of the component and the mods stuck behind it.

use std::collections::VecDeque;

use super::Edge;
use crate::manifest::Manifest;

/// One cycle of ordering constraints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cycle {
    /// Edge indices that close the cycle: each edge's `after` mod needs its `before` mod, and
    /// the `before` of one edge is the `after` of the next; the last leads back to the first.
    pub path: Vec<usize>,
    /// Other mods caught in the same knot of constraints but not on `path`.
    pub entangled: Vec<usize>,
    /// Mods outside any cycle that cannot load until this one is broken.
    pub stuck_behind: Vec<usize>,
}

impl Cycle {
    /// The mods on the cycle, in order, starting from the smallest id.
    pub fn mods<'a>(&'a self, edges: &'a [Edge]) -> impl Iterator<Item = usize> + 'a {
        self.path.iter().map(|&edge| edges[edge].after)
    }
}

pub(super) fn find_cycles(
    manifests: &[Manifest],
    edges: &[Edge],
    unplaced: &[usize],
) -> Vec<Cycle> {
    if unplaced.is_empty() {
        return Vec::new();
    }
    let count = manifests.len();
    let mut is_unplaced = vec![false; count];
    for &position in unplaced {
        is_unplaced[position] = true;
    }
    // `needs[m]`: edges from `m` to a mod it must load after, both unplaced.
    let mut needs: Vec<Vec<usize>> = vec![Vec::new(); count];
    let mut needed_by: Vec<Vec<usize>> = vec![Vec::new(); count];
    for (edge_index, edge) in edges.iter().enumerate() {
        if is_unplaced[edge.after] && is_unplaced[edge.before] {
            needs[edge.after].push(edge_index);
            needed_by[edge.before].push(edge_index);
        }
    }

    let components = strongly_connected(unplaced, edges, &needs);
    let mut component_of = vec![usize::MAX; count];
    for (component_index, component) in components.iter().enumerate() {
        for &position in component {
            component_of[position] = component_index;
        }
    }
    let is_cyclic = |component: &[usize]| {
        component.len() > 1
            || needs[component[0]]
                .iter()
                .any(|&edge| edges[edge].before == component[0])
    };

    let mut cycles: Vec<Cycle> = components
        .iter()
        .enumerate()
        .filter(|(_, component)| is_cyclic(component))
        .map(|(component_index, component)| {
            let start = *component
                .iter()
                .min_by_key(|&&position| &manifests[position].id)
                .expect("components are never empty");
            let path = shortest_cycle(start, edges, &needs, |position| {
                component_of[position] == component_index
            });
            let on_path: Vec<usize> = path.iter().map(|&edge| edges[edge].after).collect();
            let mut entangled: Vec<usize> = component
                .iter()
                .copied()
                .filter(|position| !on_path.contains(position))
                .collect();
            entangled.sort_by_key(|&position| &manifests[position].id);
            let mut stuck_behind = behind(component, edges, &needed_by, |position| {
                !is_cyclic(&components[component_of[position]])
            });
            stuck_behind.sort_by_key(|&position| &manifests[position].id);
            Cycle {
                path,
                entangled,
                stuck_behind,
            }
        })
        .collect();
    cycles.sort_by_key(|cycle| &manifests[edges[cycle.path[0]].after].id);
    cycles
}

/// Tarjan's strongly connected components, iterative so that long chains cannot overflow.
fn strongly_connected(nodes: &[usize], edges: &[Edge], needs: &[Vec<usize>]) -> Vec<Vec<usize>> {
    const UNVISITED: usize = usize::MAX;
    let count = needs.len();
    let mut index = vec![UNVISITED; count];
    let mut low_link = vec![0usize; count];
    let mut on_stack = vec![false; count];
    let mut stack = Vec::new();
    let mut components = Vec::new();
    let mut next_index = 0;

    for &root in nodes {
        if index[root] != UNVISITED {
            continue;
        }
        // (node, how many of its edges were followed)
        let mut calls = vec![(root, 0usize)];
        index[root] = next_index;
        low_link[root] = next_index;
        next_index += 1;
        stack.push(root);
        on_stack[root] = true;
        while let Some(&mut (node, ref mut followed)) = calls.last_mut() {
            if let Some(&edge) = needs[node].get(*followed) {
                *followed += 1;
                let next = edges[edge].before;
                if index[next] == UNVISITED {
                    index[next] = next_index;
                    low_link[next] = next_index;
                    next_index += 1;
                    stack.push(next);
                    on_stack[next] = true;
                    calls.push((next, 0));
                } else if on_stack[next] {
                    low_link[node] = low_link[node].min(index[next]);
                }
                continue;
            }
            calls.pop();
            if let Some(&(parent, _)) = calls.last() {
                low_link[parent] = low_link[parent].min(low_link[node]);
            }
            if low_link[node] == index[node] {
                let mut component = Vec::new();
                while let Some(member) = stack.pop() {
                    on_stack[member] = false;
                    component.push(member);
                    if member == node {
                        break;
                    }
                }
                components.push(component);
            }
        }
    }
    components
}

/// The shortest path of `needs` edges from `start` back to itself, staying inside a component.
fn shortest_cycle(
    start: usize,
    edges: &[Edge],
    needs: &[Vec<usize>],
    inside: impl Fn(usize) -> bool,
) -> Vec<usize> {
    let mut arrived_by: Vec<Option<usize>> = vec![None; needs.len()];
    let mut queue = VecDeque::from([start]);
    while let Some(node) = queue.pop_front() {
        for &edge in &needs[node] {
            let next = edges[edge].before;
            if !inside(next) {
                continue;
            }
            if next == start {
                let mut path = vec![edge];
                let mut at = node;
                while at != start {
                    let previous = arrived_by[at].expect("every visited node was reached");
                    path.push(previous);
                    at = edges[previous].after;
                }
                path.reverse();
                return path;
            }
            if arrived_by[next].is_none() {
                arrived_by[next] = Some(edge);
                queue.push_back(next);
            }
        }
    }
    unreachable!("a cyclic component has a cycle through each of its members")
}

/// Mods that transitively need a member of `component`, among those `eligible`.
fn behind(
    component: &[usize],
    edges: &[Edge],
    needed_by: &[Vec<usize>],
    eligible: impl Fn(usize) -> bool,
) -> Vec<usize> {
    let mut seen = vec![false; needed_by.len()];
    let mut queue: VecDeque<usize> = component.iter().copied().collect();
    let mut found = Vec::new();
    while let Some(node) = queue.pop_front() {
        for &edge in &needed_by[node] {
            let dependent = edges[edge].after;
            if !seen[dependent] && eligible(dependent) {
                seen[dependent] = true;
                found.push(dependent);
                queue.push_back(dependent);
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::super::tests::{ids, manifest};
    use super::super::{Problem, resolve};
    use super::*;

    fn cycles(manifests: &[Manifest]) -> (Vec<Cycle>, Vec<Edge>, Vec<usize>) {
        let resolution = resolve(manifests, &BTreeMap::new(), &semver::Version::new(0, 1, 0));
        let cycles = resolution
            .problems
            .into_iter()
            .filter_map(|problem| match problem {
                Problem::Cycle(cycle) => Some(cycle),
                _ => None,
            })
            .collect();
        (cycles, resolution.edges, resolution.order)
    }

    #[test]
    fn a_cycle_is_named_in_order_from_its_smallest_id() {
        let manifests = [
            manifest("c", "1.0.0", 0, &["a"]),
            manifest("b", "1.0.0", 0, &["c"]),
            manifest("a", "1.0.0", 0, &["b"]),
            manifest("after", "1.0.0", 0, &["c"]),
            manifest("free", "1.0.0", 0, &[]),
        ];
        let (cycles, edges, order) = cycles(&manifests);
        assert_eq!(cycles.len(), 1);
        let named = ids(&manifests, &cycles[0].mods(&edges).collect::<Vec<_>>());
        assert_eq!(named, ["a", "b", "c"]);
        assert_eq!(ids(&manifests, &cycles[0].stuck_behind), ["after"]);
        assert_eq!(ids(&manifests, &order), ["free"]);
    }

    #[test]
    fn a_self_dependency_is_a_cycle_of_one() {
        let manifests = [manifest("solo", "1.0.0", 0, &["solo"])];
        let (cycles, edges, _) = cycles(&manifests);
        assert_eq!(
            ids(&manifests, &cycles[0].mods(&edges).collect::<Vec<_>>()),
            ["solo"]
        );
    }

    #[test]
    fn separate_cycles_are_reported_separately_and_knots_name_every_member() {
        let manifests = [
            manifest("a", "1.0.0", 0, &["b"]),
            manifest("b", "1.0.0", 0, &["a", "c"]),
            manifest("c", "1.0.0", 0, &["b"]),
            manifest("x", "1.0.0", 0, &["y"]),
            manifest("y", "1.0.0", 0, &["x"]),
        ];
        let (cycles, edges, _) = cycles(&manifests);
        assert_eq!(cycles.len(), 2);
        assert_eq!(
            ids(&manifests, &cycles[0].mods(&edges).collect::<Vec<_>>()),
            ["a", "b"]
        );
        assert_eq!(ids(&manifests, &cycles[0].entangled), ["c"]);
        assert_eq!(
            ids(&manifests, &cycles[1].mods(&edges).collect::<Vec<_>>()),
            ["x", "y"]
        );
    }
}
