//! Circles in a directed graph of numbered nodes: strongly connected components (Tarjan), and a
//! closed walk through each that a reader can follow edge by edge.

use std::collections::{BTreeSet, VecDeque};

/// A graph on nodes `0..n`; `edges[a]` holds the nodes `a` points to.
pub type Edges = Vec<BTreeSet<usize>>;

/// Every strongly connected component of more than one node, each sorted, in order of their
/// smallest node.
pub fn circles(edges: &Edges) -> Vec<Vec<usize>> {
    let mut t = Tarjan {
        edges,
        index: vec![None; edges.len()],
        low: vec![0; edges.len()],
        on_stack: vec![false; edges.len()],
        stack: Vec::new(),
        next: 0,
        out: Vec::new(),
    };
    for v in 0..edges.len() {
        if t.index[v].is_none() {
            t.visit(v);
        }
    }
    let mut out = t.out;
    for c in &mut out {
        c.sort_unstable();
    }
    out.sort();
    out
}

struct Tarjan<'a> {
    edges: &'a Edges,
    index: Vec<Option<usize>>,
    low: Vec<usize>,
    on_stack: Vec<bool>,
    stack: Vec<usize>,
    next: usize,
    out: Vec<Vec<usize>>,
}

impl Tarjan<'_> {
    // Recursive: a crate's module graph is a few hundred files at most.
    fn visit(&mut self, v: usize) {
        self.index[v] = Some(self.next);
        self.low[v] = self.next;
        self.next += 1;
        self.stack.push(v);
        self.on_stack[v] = true;
        for &w in &self.edges[v] {
            match self.index[w] {
                None => {
                    self.visit(w);
                    self.low[v] = self.low[v].min(self.low[w]);
                }
                Some(iw) if self.on_stack[w] => self.low[v] = self.low[v].min(iw),
                Some(_) => {}
            }
        }
        if Some(self.low[v]) == self.index[v] {
            let mut component = Vec::new();
            while let Some(w) = self.stack.pop() {
                self.on_stack[w] = false;
                component.push(w);
                if w == v {
                    break;
                }
            }
            if component.len() > 1 {
                self.out.push(component);
            }
        }
    }
}

/// A closed walk inside `circle` (one strongly connected component) that starts and ends at
/// its first node and visits every node: repeatedly the shortest path to the nearest node not
/// yet visited, then back to the start.
pub fn closed_walk(edges: &Edges, circle: &[usize]) -> Vec<usize> {
    let Some(&start) = circle.first() else {
        return Vec::new();
    };
    let mut walk = vec![start];
    let mut seen: BTreeSet<usize> = BTreeSet::from([start]);
    let mut here = start;
    while seen.len() < circle.len() {
        let Some(path) = shortest_path(edges, circle, here, |n| !seen.contains(&n)) else {
            break; // not strongly connected: cannot happen for a component
        };
        seen.extend(path.iter().copied());
        here = *path.last().unwrap_or(&here);
        walk.extend(path);
    }
    if let Some(back) = shortest_path(edges, circle, here, |n| n == start) {
        walk.extend(back);
    }
    walk
}

/// The nodes after `from` on a shortest path inside `within` to the first node `goal` accepts.
fn shortest_path(
    edges: &Edges,
    within: &[usize],
    from: usize,
    goal: impl Fn(usize) -> bool,
) -> Option<Vec<usize>> {
    let mut parent: Vec<Option<usize>> = vec![None; edges.len()];
    let mut queue = VecDeque::from([from]);
    let mut reached = vec![false; edges.len()];
    reached[from] = true;
    while let Some(v) = queue.pop_front() {
        for &w in &edges[v] {
            if reached[w] || !within.contains(&w) {
                continue;
            }
            reached[w] = true;
            parent[w] = Some(v);
            if goal(w) {
                let mut path = vec![w];
                let mut at = w;
                while let Some(p) = parent[at] {
                    if p == from {
                        break;
                    }
                    path.push(p);
                    at = p;
                }
                path.reverse();
                return Some(path);
            }
            queue.push_back(w);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn graph(n: usize, pairs: &[(usize, usize)]) -> Edges {
        let mut e = vec![BTreeSet::new(); n];
        for &(a, b) in pairs {
            e[a].insert(b);
        }
        e
    }

    #[test]
    fn finds_each_circle_and_nothing_in_a_tree() {
        let e = graph(6, &[(0, 1), (1, 0), (1, 2), (2, 3), (3, 4), (4, 2), (4, 5)]);
        assert_eq!(circles(&e), vec![vec![0, 1], vec![2, 3, 4]]);
        let tree = graph(4, &[(0, 1), (0, 2), (1, 3), (2, 3)]);
        assert!(circles(&tree).is_empty());
    }

    #[test]
    fn the_walk_visits_every_node_along_real_edges() {
        // A figure eight: 0 → 1 → 0 and 0 → 2 → 0.
        let e = graph(3, &[(0, 1), (1, 0), (0, 2), (2, 0)]);
        let walk = closed_walk(&e, &[0, 1, 2]);
        assert_eq!(walk, vec![0, 1, 0, 2, 0]);
        for pair in walk.windows(2) {
            assert!(e[pair[0]].contains(&pair[1]), "{pair:?} is an edge");
        }
    }
}
