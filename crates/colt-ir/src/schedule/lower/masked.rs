//! The loops of a stage that iterates only the points its mask keeps (see
//! `schedule::mask` for the rule): each loop over a clamped axis starts at
//! the first tile that intersects the mask and ends after the last, given
//! the ranges the other axes of the mask have at that point of the nest;
//! a reduction's `R1` loop is split into the points every point of the
//! register tile keeps (no condition) and the boundary before and after
//! (the term guarded by the mask).

use super::{AxisRange, Lowering};
use crate::expr::{AxisId, Expr};
use crate::loopnest::{Loop, LoopKind, Node};
use crate::schedule::analysis::{loop_order, tile_sizes, trip_count, LoopLevel, Section};
use crate::schedule::mask::Mask;
use crate::schedule::{Iterate, Placement};

/// `colt_maxl`, declared in a kernel's own prelude only when a stage uses
/// masked iteration (every other kernel's text stays as it was).
pub(super) const MAXL_PRELUDE: &str = "static inline long colt_maxl(long a, long b) { return a > b ? a : b; }\n";

/// The largest of C expressions.
fn c_max(terms: &[String]) -> Option<String> {
    terms.iter().cloned().reduce(|a, b| format!("colt_maxl({a}, {b})"))
}

fn c_min(terms: &[String]) -> Option<String> {
    terms.iter().cloned().reduce(|a, b| format!("colt_minl({a}, {b})"))
}

/// A loop's bounds (C expressions) and its trip count for the features.
pub(super) struct Clamped {
    pub start: String,
    pub end: String,
    pub trips: usize,
}

impl Lowering<'_> {
    /// The mask stage `s` iterates by, when it iterates its kept points
    /// only.
    pub(super) fn iteration_mask(&self, s: usize) -> Option<&Mask> {
        if self.c.stages()[s].iterate != Iterate::Kept {
            return None;
        }
        self.c.mask_facts().masks[s].as_ref()
    }

    /// Whether the loop `l` of stage `s` is clamped by its mask: a loop
    /// over a clamped axis, outside the register tile, with no stage
    /// computed inside it (a stage computed at a loop computes the region
    /// its iteration needs for every reader, and its other readers need
    /// the regions of the skipped iterations too).
    pub(super) fn is_clamped(&self, s: usize, l: LoopLevel) -> bool {
        let clamped_axis = l.section != Section::S3
            && self.iteration_mask(s).is_some_and(|m| m.clamped_axes(self.stage(s)).contains(&l.axis));
        if !clamped_axis {
            return false;
        }
        let pos = loop_order(self.stage(s)).iter().position(|o| *o == l).unwrap_or(0);
        !self
            .c
            .stages()
            .iter()
            .any(|m| matches!(m.placement, Placement::At { stage, loop_index } if stage == s && loop_index >= pos))
    }

    /// The inclusive C range of axis `y` inside the loops of `s` enclosing
    /// `l`: the tile of the innermost one over `y`, else its whole range.
    fn range_inside(&self, s: usize, l: LoopLevel, y: usize, ranges: &[AxisRange]) -> (String, String) {
        let order = loop_order(self.stage(s));
        let pos = order.iter().position(|o| *o == l).unwrap_or(order.len());
        let enclosing = order[..pos].iter().rev().find(|o| o.axis.0 == y);
        match enclosing {
            Some(o) => {
                let var = self.var(s, o.axis, o.level);
                let size = tile_sizes(&self.c.stages()[s].tiles[y])[o.level];
                (var.clone(), format!("{var} + {}", size - 1))
            }
            None => (ranges[y].lo.clone(), format!("{} - 1", ranges[y].hi)),
        }
    }

    /// The bounds of loop `l` (`bounds`, by tiles of `size`) clamped to
    /// the tiles that intersect the mask. A
    /// reduction's `R0` loop is clamped from above only and keeps its
    /// first iteration, where the register tile is initialised.
    pub(super) fn clamp(&self, s: usize, l: LoopLevel, ranges: &[AxisRange], bounds: Clamped, size: usize) -> Clamped {
        let Clamped { start, end, trips } = bounds;
        let Some(mask) = self.iteration_mask(s).cloned() else { return Clamped { start, end, trips } };
        let range = |y: usize| self.range_inside(s, l, y, ranges);
        let Some((lows, highs)) = mask.limits(l.axis.0, &range, true) else { return Clamped { start, end, trips } };
        let trips = if self.scaled_loop(s) == Some(l) { self.scaled_trips(s, trips) } else { trips };
        let high = c_min(&highs).map(|h| format!("{h} + 1"));
        if l.section == Section::R0 {
            let end = match high {
                Some(h) => format!("colt_minl({end}, colt_maxl({start} + 1, {h}))"),
                None => end,
            };
            return Clamped { start, end, trips };
        }
        let end = match high {
            Some(h) => format!("colt_minl({end}, {h})"),
            None => end,
        };
        let start = match c_max(&lows) {
            Some(low) => format!("{start} + colt_maxl(0, {low} - ({start})) / {size} * {size}"),
            None => start,
        };
        Clamped { start, end, trips }
    }

    /// The one loop of `s` whose trip count carries the mask's share of
    /// the work (so that the features see the work skipped once): the
    /// first clamped loop that iterates more than once inside a loop over
    /// another axis of the mask that does.
    fn scaled_loop(&self, s: usize) -> Option<LoopLevel> {
        let mask = self.iteration_mask(s)?;
        let stage = self.stage(s);
        let clamped = mask.clamped_axes(stage);
        let tiles = &self.c.stages()[s].tiles;
        let trips = |l: &LoopLevel| trip_count(stage.axis(l.axis).extent, &tiles[l.axis.0], l.level);
        let order = loop_order(stage);
        order.iter().enumerate().find_map(|(pos, l)| {
            let inside_other = order[..pos].iter().any(|o| o.axis != l.axis && mask.mentions(o.axis.0) && trips(o) > 1);
            (l.section != Section::S3 && clamped.contains(&l.axis) && trips(l) > 1 && inside_other).then_some(*l)
        })
    }

    fn scaled_trips(&self, s: usize, trips: usize) -> usize {
        let share = self.c.mask_facts().kept_share[s];
        ((trips as f64 * share).ceil() as usize).max(1)
    }

    /// The term of a reduction that iterates its kept points, guarded for
    /// the boundary points: `select(mask, term, identity)`.
    pub(super) fn guarded_body(&self, s: usize) -> Expr {
        let body = self.bodies[s].clone();
        let Some(mask) = self.iteration_mask(s).filter(|m| m.is_reduction_skip(self.stage(s))) else { return body };
        let identity = Expr::Const(self.stage(s).combine.init());
        Expr::Select(Box::new(mask.cond()), Box::new(body), Box::new(identity))
    }

    /// The `R1` loop over the masked reduction axis `k` of stage `s` (its
    /// range inside `R0`'s tile `[k0, k0 + r1)`), clamped to the mask: with
    /// `exact` (a full register tile, whose spatial points are exactly the
    /// `S2` tiles) split into the boundary before, the points the whole
    /// tile keeps (`plain`, no condition) and the boundary after
    /// (`guarded`); otherwise one loop of `guarded`.
    pub(super) fn masked_r1_loop(
        &self,
        s: usize,
        k: AxisId,
        unroll: Option<usize>,
        exact: bool,
        plain: Vec<Node>,
        guarded: Vec<Node>,
    ) -> Vec<Node> {
        let stage = self.stage(s);
        let extent = stage.axis(k).extent;
        let r1 = self.c.stages()[s].tiles[k.0][0];
        let l = LoopLevel { axis: k, level: 1, section: Section::R1 };
        let var = self.var(s, k, 1);
        let parent = self.var(s, k, 0);
        let trips = r1.min(extent);
        if trips <= 1 {
            let mut nodes = vec![Node::Let { var, value: parent }];
            nodes.extend(guarded);
            return nodes;
        }
        let end = if r1 >= extent { extent.to_string() } else { format!("colt_minl({parent} + {r1}, {extent})") };
        let full: Vec<AxisRange> =
            stage.axes.iter().map(|a| AxisRange { lo: "0".into(), hi: a.extent.to_string(), len: a.extent }).collect();
        let clamped = self.clamp(s, l, &full, Clamped { start: parent, end, trips }, 1);
        let make = |start: String, end: String, trips: usize, body: Vec<Node>| {
            Node::Loop(Loop {
                var: var.clone(),
                start,
                end,
                step: 1,
                kind: LoopKind::Serial,
                trips,
                unroll: unroll.filter(|&u| u >= 2),
                body,
            })
        };
        let Some(mask) = self.iteration_mask(s).cloned() else {
            return vec![make(clamped.start, clamped.end, clamped.trips, plain)];
        };
        let range = |y: usize| self.range_inside(s, l, y, &full);
        let kept_by_all = if exact { mask.limits(k.0, &range, false) } else { None };
        let Some((lows, highs)) = kept_by_all else {
            return vec![make(clamped.start, clamped.end, clamped.trips, guarded)];
        };
        // [start, a) guarded, [a, b) plain, [b, end) guarded, with
        // start <= a <= b <= end.
        let (start, end) = (clamped.start, clamped.end);
        let a_var = super::ident(&format!("{var}_kept_lo"));
        let b_var = super::ident(&format!("{var}_kept_hi"));
        let low = c_max(&lows).unwrap_or_else(|| "0".to_string());
        let high = c_min(&highs).map(|h| format!("{h} + 1")).unwrap_or_else(|| end.clone());
        let start_var = super::ident(&format!("{var}_start"));
        let end_var = super::ident(&format!("{var}_end"));
        // The boundary bands are about as wide as the register tile along
        // the mask's other axes; the three loops share the clamped loop's
        // trips.
        let band = stage
            .spatial_axes()
            .filter(|(a, _)| mask.mentions(a.0))
            .map(|(a, _)| self.c.stages()[s].tiles[a.0][2])
            .max()
            .unwrap_or(1)
            .min(clamped.trips / 2);
        let interior = clamped.trips - 2 * band;
        vec![
            Node::Let { var: start_var.clone(), value: start },
            Node::Let { var: end_var.clone(), value: end },
            Node::Let { var: a_var.clone(), value: format!("colt_minl({end_var}, colt_maxl({start_var}, {low}))") },
            Node::Let { var: b_var.clone(), value: format!("colt_minl({end_var}, colt_maxl({a_var}, {high}))") },
            make(start_var, a_var.clone(), band.max(1), guarded.clone()),
            make(a_var, b_var.clone(), interior.max(1), plain),
            make(b_var, end_var, band.max(1), guarded),
        ]
    }
}
