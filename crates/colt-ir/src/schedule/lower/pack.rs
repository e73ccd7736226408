//! The pack phase: an operand copied into its packed layout (see
//! `schedule::pack` for the layouts) before the phase that reads it.

use super::{ident, Lowering};
use crate::c::{c_f32, c_ident};
use crate::loopnest::{Access, Loop, LoopKind, Node, Statement};
use crate::schedule::pack::{PackPlan, SourceIndex};

impl Lowering<'_> {
    /// The copy of an operand into its packed layout, split over the
    /// tasks along the packed buffer's first dimension.
    pub(super) fn pack(&self, plan: &PackPlan) -> Vec<Node> {
        let source = self.program.buffer(plan.source);
        let scratch = self.program.buffer(plan.scratch);
        let vars: Vec<String> = (0..plan.shape.len()).map(|j| ident(&format!("{}_p{j}", scratch.name))).collect();
        let mut index = Vec::new();
        let mut checks = Vec::new();
        for (k, &extent) in source.shape.iter().enumerate() {
            let (e, covers) = match plan.index[k] {
                SourceIndex::Dim { packed, low } => {
                    let e = if low == 0 { vars[packed].clone() } else { format!("({} - {})", vars[packed], -low) };
                    if low < 0 {
                        checks.push(format!("{e} >= 0"));
                    }
                    (e, plan.shape[packed] as i64 + low)
                }
                SourceIndex::Blocked { outer, inner, width } => {
                    (format!("({} * {width} + {})", vars[outer], vars[inner]), (plan.shape[outer] * width) as i64)
                }
            };
            if covers > extent as i64 {
                checks.push(format!("{e} < {extent}"));
            }
            index.push(e);
        }
        let strides = source.strides();
        let offset: Vec<String> = index.iter().zip(&strides).map(|(e, s)| format!("{e} * {s}L")).collect();
        let offset = if offset.is_empty() { "0".to_string() } else { offset.join(" + ") };
        let read = format!("{}[{offset}]", c_ident(&source.name));
        // Outside the source: its padding, or zeros in the last panel of a
        // blocked dimension (never read).
        let value = if checks.is_empty() {
            read
        } else {
            format!("({}) ? {read} : {}", checks.join(" && "), c_f32(plan.pad.unwrap_or(0.0)))
        };
        let out: Vec<String> = vars.iter().zip(scratch.strides()).map(|(v, s)| format!("{v} * {s}L")).collect();
        let out = if out.is_empty() { "0".to_string() } else { out.join(" + ") };
        let text = format!("{}[{out}] = {value};", c_ident(&scratch.name));
        let stmt = Node::Stmt(Statement {
            text,
            stage: plan.stage,
            flops: 0,
            lanes: 1,
            accesses: vec![
                Access { buffer: plan.source.0, write: false, elements: 1, stride: None },
                Access { buffer: plan.scratch.0, write: true, elements: 1, stride: Some(1) },
            ],
        });
        let mut body = vec![stmt];
        for (j, &extent) in plan.shape.iter().enumerate().rev() {
            let (start, end, kind) = if j == 0 {
                (format!("{extent}L * task / ntasks"), format!("{extent}L * (task + 1) / ntasks"), LoopKind::Parallel)
            } else {
                ("0".to_string(), extent.to_string(), LoopKind::Serial)
            };
            body = vec![Node::Loop(Loop {
                var: vars[j].clone(),
                start,
                end,
                step: 1,
                kind,
                trips: extent,
                unroll: None,
                body,
            })];
        }
        let mut nodes = vec![Node::Comment(format!(
            "pack {} for {} as {}{:?}",
            source.name,
            self.stage_name(plan.stage),
            scratch.name,
            plan.shape
        ))];
        nodes.extend(body);
        nodes
    }
}
