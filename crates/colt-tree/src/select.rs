//! Selection: descend with a caller's scoring, applying virtual loss.
//!
//! The tree does not know UCT: the caller's closure sees the parent and a
//! child and returns a score, so model-aware terms, unvisited-first ordering
//! and how much a unit of virtual loss should weigh are all the caller's.

use crate::error::TreeError;
use crate::id::NodeId;
use crate::node_ref::NodeRef;
use crate::path::Path;
use crate::tree::Tree;

impl<P> Tree<P> {
    /// Descends from `from` to a leaf, at each node taking the child with the
    /// highest `score(parent, child)` (the first one on ties; a NaN score
    /// ranks below every number). Adds one virtual loss to every node on the
    /// path, as it descends, so that concurrent selections see it at once.
    pub fn select<F>(&self, from: NodeId, mut score: F) -> Result<Path, TreeError>
    where
        F: FnMut(NodeRef<'_, P>, NodeRef<'_, P>) -> f64,
    {
        let mut current = self.node(from)?;
        let mut path = self.start_path(current);
        loop {
            let mut best: Option<(f64, NodeRef<'_, P>)> = None;
            for child in current.children() {
                let s = score(current, child);
                let s = if s.is_nan() { f64::NEG_INFINITY } else { s };
                if best.is_none_or(|(top, _)| s > top) {
                    best = Some((s, child));
                }
            }
            let Some((_, child)) = best else {
                return Ok(path);
            };
            self.step(&mut path, child);
            current = child;
        }
    }

    /// Like [`select`](Self::select), but `choose` sees the parent and all
    /// its children at once and returns the index of the child to descend
    /// to, or `None` to stop at the parent (to expand a node that already has
    /// children, for instance). Not called at a node without children.
    pub fn select_with<F>(&self, from: NodeId, mut choose: F) -> Result<Path, TreeError>
    where
        F: FnMut(NodeRef<'_, P>, &[NodeRef<'_, P>]) -> Option<usize>,
    {
        let mut current = self.node(from)?;
        let mut path = self.start_path(current);
        let mut children = Vec::new();
        loop {
            children.clear();
            children.extend(current.children());
            if children.is_empty() {
                return Ok(path);
            }
            let Some(index) = choose(current, &children) else {
                return Ok(path);
            };
            let Some(&child) = children.get(index) else {
                self.release(&path);
                return Err(TreeError::NoSuchChild { parent: current.id(), index, children: children.len() });
            };
            self.step(&mut path, child);
            current = child;
        }
    }

    /// Extends `path` by one step to `child`, a child of its leaf, adding
    /// virtual loss to it: after expanding the leaf, the caller evaluates a
    /// new child and backs up the path through it.
    pub fn extend(&self, path: &mut Path, child: NodeId) -> Result<(), TreeError> {
        self.check_owner(path)?;
        let node = self.node(child)?;
        let leaf = path.leaf();
        if node.parent() != Some(leaf) {
            return Err(TreeError::NotAChild { leaf, child });
        }
        self.step(path, node);
        Ok(())
    }

    /// Removes the path's virtual loss without backing up a value (the
    /// expansion failed, the job is cancelled...).
    pub fn abandon(&self, path: Path) -> Result<(), TreeError> {
        self.check_owner(&path)?;
        self.release(&path);
        Ok(())
    }

    fn start_path(&self, from: NodeRef<'_, P>) -> Path {
        from.raw().add_loss();
        let mut nodes = Vec::with_capacity(from.depth() as usize + 16);
        nodes.push(from.id());
        Path { tree: self.tag, nodes }
    }

    fn step(&self, path: &mut Path, child: NodeRef<'_, P>) {
        child.raw().add_loss();
        path.nodes.push(child.id());
    }

    pub(crate) fn check_owner(&self, path: &Path) -> Result<(), TreeError> {
        if path.tree == self.tag {
            Ok(())
        } else {
            Err(TreeError::ForeignPath)
        }
    }

    /// Removes one virtual loss from every node of `path`, which this tree
    /// selected (so every id in it is a node here).
    pub(crate) fn release(&self, path: &Path) {
        for &id in &path.nodes {
            if let Ok(node) = self.get(id) {
                node.remove_loss();
            }
        }
    }

    /// The id of `from`'s ancestors and itself, from `from` up to the root.
    pub(crate) fn ancestors(&self, from: NodeId) -> impl Iterator<Item = NodeId> + '_ {
        std::iter::successors(Some(from), move |&id| self.get(id).ok().and_then(|node| NodeId::from_link(node.parent)))
    }
}
