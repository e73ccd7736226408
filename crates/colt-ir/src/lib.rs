//! colt-ir (being written).
