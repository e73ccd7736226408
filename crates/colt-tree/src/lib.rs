//! colt-tree: a generic concurrent Monte Carlo tree search tree.
//!
//! Will own: the node arena, lock-striped child lists, atomic visit / value /
//! virtual-loss counters, the transposition table and snapshot/restore.
//! It knows nothing of programs, models or actors.
