//! The load order: Kahn's algorithm with a `(priority, id)` heap as the tie-break.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};

use super::Edge;
use crate::manifest::Manifest;

/// Why a mod sits where it does in the load order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placement {
    /// 0-based position in the load order.
    pub position: usize,
    /// Indices into the edges of the mods that had to load first.
    pub prerequisites: Vec<usize>,
    /// The prerequisite edge whose mod loaded last, which freed this mod to load.
    pub released_by: Option<usize>,
    /// The position at which the mod became free to load; it loaded later only because mods of
    /// lower priority (or equal priority and smaller id) were also free.
    pub free_from: usize,
}

pub(super) struct Ordered {
    pub order: Vec<usize>,
    pub placements: BTreeMap<usize, Placement>,
    /// Mods that could not be placed because they are on or behind a cycle.
    pub unplaced: Vec<usize>,
}

pub(super) fn order(manifests: &[Manifest], edges: &[Edge]) -> Ordered {
    let count = manifests.len();
    let mut waiting_on = vec![0usize; count];
    let mut outgoing: Vec<Vec<usize>> = vec![Vec::new(); count];
    let mut incoming: Vec<Vec<usize>> = vec![Vec::new(); count];
    for (edge_index, edge) in edges.iter().enumerate() {
        waiting_on[edge.after] += 1;
        outgoing[edge.before].push(edge_index);
        incoming[edge.after].push(edge_index);
    }

    let key = |position: usize| {
        Reverse((
            manifests[position].priority,
            &manifests[position].id,
            position,
        ))
    };
    let mut free: BinaryHeap<_> = (0..count)
        .filter(|&position| waiting_on[position] == 0)
        .map(key)
        .collect();
    let mut released_by: Vec<Option<usize>> = vec![None; count];
    let mut free_from = vec![0usize; count];
    let mut order = Vec::with_capacity(count);
    let mut placements = BTreeMap::new();

    while let Some(Reverse((_, _, position))) = free.pop() {
        placements.insert(
            position,
            Placement {
                position: order.len(),
                prerequisites: incoming[position].clone(),
                released_by: released_by[position],
                free_from: free_from[position],
            },
        );
        order.push(position);
        for &edge_index in &outgoing[position] {
            let after = edges[edge_index].after;
            waiting_on[after] -= 1;
            if waiting_on[after] == 0 {
                released_by[after] = Some(edge_index);
                free_from[after] = order.len();
                free.push(key(after));
            }
        }
    }

    let unplaced = (0..count)
        .filter(|position| !placements.contains_key(position))
        .collect();
    Ordered {
        order,
        placements,
        unplaced,
    }
}
