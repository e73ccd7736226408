//! The facts the necessary-work analysis keeps per element: which values
//! are known constants (the forward pass), which elements are needed (the
//! backward pass), each stored once when every element agrees.

use super::MAX_ANALYSED_ELEMENTS;
use crate::expr::{BinaryOp, UnaryOp};

/// A value the forward pass knows, or `Other`: not known, taken to be finite
/// and nonzero as a divisor.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum Known {
    Zero,
    NegInf,
    PosInf,
    Other,
}

impl Known {
    pub(super) fn of(c: f32) -> Known {
        if c == 0.0 {
            Known::Zero
        } else if c == f32::NEG_INFINITY {
            Known::NegInf
        } else if c == f32::INFINITY {
            Known::PosInf
        } else {
            Known::Other
        }
    }

    fn neg(self) -> Known {
        match self {
            Known::NegInf => Known::PosInf,
            Known::PosInf => Known::NegInf,
            k => k,
        }
    }

    pub(super) fn add(a: Known, b: Known) -> Known {
        use Known::*;
        match (a, b) {
            (Zero, x) | (x, Zero) => x,
            (NegInf, PosInf) | (PosInf, NegInf) => Other,
            (NegInf, _) | (_, NegInf) => NegInf,
            (PosInf, _) | (_, PosInf) => PosInf,
            (Other, Other) => Other,
        }
    }

    pub(super) fn max(a: Known, b: Known) -> Known {
        use Known::*;
        match (a, b) {
            (NegInf, x) | (x, NegInf) => x,
            (PosInf, _) | (_, PosInf) => PosInf,
            (Zero, Zero) => Zero,
            _ => Other,
        }
    }

    pub(super) fn join(a: Known, b: Known) -> Known {
        if a == b {
            a
        } else {
            Known::Other
        }
    }

    pub(super) fn unary(op: UnaryOp, a: Known) -> Known {
        match (op, a) {
            (UnaryOp::Neg, a) => a.neg(),
            (UnaryOp::Exp, Known::NegInf) => Known::Zero,
            (UnaryOp::Exp, Known::PosInf) | (UnaryOp::Sqrt, Known::PosInf) => Known::PosInf,
            (UnaryOp::Sqrt, Known::Zero) => Known::Zero,
            _ => Known::Other,
        }
    }

    pub(super) fn binary(op: BinaryOp, a: Known, b: Known) -> Known {
        use Known::*;
        match op {
            BinaryOp::Add => Known::add(a, b),
            BinaryOp::Sub => Known::add(a, b.neg()),
            BinaryOp::Mul => match (a, b) {
                (Zero, Zero | Other) | (Other, Zero) => Zero,
                _ => Other,
            },
            BinaryOp::Div => match (a, b) {
                (Zero, Other | NegInf | PosInf) => Zero,
                _ => Other,
            },
            BinaryOp::Max => Known::max(a, b),
            BinaryOp::Min => Known::max(a.neg(), b.neg()).neg(),
        }
    }
}

/// Per-element facts about a buffer, stored once when they are all equal.
pub(super) enum Map<T> {
    Uniform(T),
    Each(Vec<T>),
}

impl<T: Copy + PartialEq> Map<T> {
    pub(super) fn get(&self, offset: usize) -> T {
        match self {
            Map::Uniform(v) => *v,
            Map::Each(v) => v[offset],
        }
    }

    pub(super) fn compress(&mut self) {
        if let Map::Each(v) = self {
            if let Some(&first) = v.first() {
                if v.iter().all(|&x| x == first) {
                    *self = Map::Uniform(first);
                }
            }
        }
    }
}

impl Map<bool> {
    /// Marks an element needed; a buffer past the size limit is needed whole.
    pub(super) fn set(&mut self, offset: usize, len: usize) {
        match self {
            Map::Uniform(true) => {}
            Map::Uniform(false) if len as u64 > MAX_ANALYSED_ELEMENTS => *self = Map::Uniform(true),
            Map::Uniform(false) => {
                let mut v = vec![false; len];
                v[offset] = true;
                *self = Map::Each(v);
            }
            Map::Each(v) => v[offset] = true,
        }
    }
}
