//! The lowered loop nest of a candidate: a small AST of loops, bindings,
//! conditions and statements, printed as C under the kernel ABI. Statements
//! carry what the cost model's features need (work, accesses, lanes), so
//! features are read off the same tree the C comes from.

use crate::opencl::{OpenClLaunch, OpenClProgram};
use crate::schedule::Target;
use std::fmt::Write;

/// What a loop does with its iterations.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LoopKind {
    Serial,
    /// The fused outer loops of a parallel stage, split over the tasks.
    Parallel,
    /// OpenCL: the work-groups of a kernel (`get_group_id(0)`); a
    /// top-level loop of this kind is one kernel.
    Groups,
    /// OpenCL: the work-items of a work-group (`get_local_id(0)`).
    Items,
}

impl LoopKind {
    /// Whether its iterations run at once (tasks, work-groups, work-items).
    pub fn is_parallel(self) -> bool {
        self != LoopKind::Serial
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Loop {
    pub var: String,
    /// C expressions of the first value and the bound (exclusive).
    pub start: String,
    pub end: String,
    pub step: usize,
    pub kind: LoopKind,
    /// The most iterations it makes (for features and comments).
    pub trips: usize,
    /// `#pragma GCC unroll` count, if any.
    pub unroll: Option<usize>,
    pub body: Vec<Node>,
}

/// One memory access of a statement.
#[derive(Clone, Debug, PartialEq)]
pub struct Access {
    pub buffer: usize,
    pub write: bool,
    /// Elements moved per execution (the vector lanes, or 1).
    pub elements: usize,
    /// Stride in elements along the stage's innermost spatial axis: 0
    /// (broadcast), 1 (contiguous) or more.
    pub stride: Option<i64>,
}

/// A computing statement and what it costs.
#[derive(Clone, Debug, PartialEq)]
pub struct Statement {
    pub text: String,
    pub stage: usize,
    /// Floating-point operations per execution (all lanes).
    pub flops: usize,
    pub lanes: usize,
    pub accesses: Vec<Access>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Node {
    Loop(Loop),
    /// `long var = value;` (or a declaration given whole in `value` when
    /// `var` is empty).
    Let {
        var: String,
        value: String,
    },
    /// `then_share` is the expected share of executions that take `then`
    /// (the features weigh the two branches by it).
    If {
        cond: String,
        then: Vec<Node>,
        otherwise: Vec<Node>,
        then_share: f64,
    },
    Stmt(Statement),
    /// Every task waits for every other (between dependent phases; on
    /// OpenCL, between kernels).
    Barrier,
    /// OpenCL: every work-item of the group waits for the others, and their
    /// writes to local and global memory are visible after it.
    GroupBarrier,
    Comment(String),
}

/// A whole lowered kernel.
#[derive(Clone, Debug, PartialEq)]
pub struct LoopNest {
    pub name: String,
    /// The C declarations the body needs beyond the common prelude.
    pub prelude: String,
    /// `const float *restrict A = bufs[0];` lines (on OpenCL, the kernels'
    /// parameter list).
    pub bindings: String,
    /// Lengths in floats of the scratch buffers (packed operands) the
    /// caller allocates after the program's buffers in `bufs[]`.
    pub scratch: Vec<usize>,
    pub body: Vec<Node>,
    pub target: Target,
}

impl LoopNest {
    /// The kernel's source in its target's language.
    pub fn source(&self) -> String {
        match self.target {
            Target::Cpu => self.to_c(),
            Target::OpenCl => self.to_opencl().source,
        }
    }

    /// The OpenCL kernels: each top-level work-group loop is one
    /// `__kernel` (`colt_phase0`, ...) and one launch, in order.
    pub fn to_opencl(&self) -> OpenClProgram {
        let mut source = String::new();
        let _ = writeln!(source, "/* colt scheduled OpenCL kernels: {} */", self.name);
        source.push_str(crate::opencl::PRELUDE);
        source.push_str(&self.prelude);
        let mut launches = Vec::new();
        for node in &self.body {
            match node {
                Node::Loop(l) if l.kind == LoopKind::Groups => {
                    let entry = format!("colt_phase{}", launches.len());
                    let items = l
                        .body
                        .iter()
                        .find_map(|n| match n {
                            Node::Loop(i) if i.kind == LoopKind::Items => Some(i.trips),
                            _ => None,
                        })
                        .unwrap_or(1);
                    let _ = writeln!(source, "\n__kernel void {entry}({}) {{", self.bindings);
                    print_nodes(&mut source, std::slice::from_ref(node), 1, Target::OpenCl);
                    source.push_str("}\n");
                    launches.push(OpenClLaunch { entry, global: l.trips * items, local: Some(items) });
                }
                Node::Comment(_) => {
                    source.push('\n');
                    print_nodes(&mut source, std::slice::from_ref(node), 0, Target::OpenCl);
                }
                _ => {}
            }
        }
        OpenClProgram { source: crate::opencl::opencl_spelling(&source), launches }
    }
    /// The kernel as C.
    pub fn to_c(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "/* colt scheduled kernel: {} */", self.name);
        out.push_str(crate::c::PRELUDE);
        out.push_str(&self.prelude);
        let _ = writeln!(out, "\n{} {{", crate::c::SIGNATURE);
        out.push_str("  (void)ntasks; (void)barrier; (void)barrier_ctx; (void)task;\n");
        out.push_str(&self.bindings);
        print_nodes(&mut out, &self.body, 1, Target::Cpu);
        out.push_str("}\n");
        out
    }

    /// A stable 64-bit hash of the lowered code ([`fnv1a`](crate::fnv1a) of
    /// the source): two candidates that lower to the same kernel share it.
    pub fn fingerprint(&self) -> u64 {
        crate::fnv1a(self.source().as_bytes())
    }

    /// Visits every statement with the loops that enclose it, outermost
    /// first, and the expected share of those loops' iterations that reach
    /// it (the product of the branch shares on the way).
    pub fn for_each_statement(&self, f: &mut impl FnMut(&Statement, &[&Loop], f64)) {
        fn walk<'a>(
            nodes: &'a [Node],
            stack: &mut Vec<&'a Loop>,
            share: f64,
            f: &mut impl FnMut(&Statement, &[&Loop], f64),
        ) {
            for n in nodes {
                match n {
                    Node::Loop(l) => {
                        stack.push(l);
                        walk(&l.body, stack, share, f);
                        stack.pop();
                    }
                    Node::If { then, otherwise, then_share, .. } => {
                        walk(then, stack, share * then_share, f);
                        walk(otherwise, stack, share * (1.0 - then_share), f);
                    }
                    Node::Stmt(s) => f(s, stack, share),
                    Node::Let { .. } | Node::Barrier | Node::GroupBarrier | Node::Comment(_) => {}
                }
            }
        }
        walk(&self.body, &mut Vec::new(), 1.0, f);
    }

    /// A compact outline for prompts: the loops that lead to computing
    /// statements, with trip counts and kinds (a chain of single nested
    /// loops on one line), and each statement's stage; the clamped edge
    /// path and initialisations are left out.
    pub fn outline(&self, stage_names: &[String]) -> String {
        let mut out = String::new();
        outline_nodes(&mut out, &self.body, 0, stage_names);
        out
    }
}

fn outline_nodes(out: &mut String, nodes: &[Node], depth: usize, names: &[String]) -> bool {
    let mut any = false;
    let mut statements: Vec<(usize, usize, usize)> = Vec::new();
    let flush = |out: &mut String, statements: &mut Vec<(usize, usize, usize)>| {
        for (stage, lanes, count) in statements.drain(..) {
            let vector = if lanes > 1 { format!(" v{lanes}") } else { String::new() };
            let times = if count > 1 { format!(" x{count}") } else { String::new() };
            let _ = writeln!(out, "{}{}{vector}{times}", " ".repeat(depth), names[stage]);
        }
    };
    for n in nodes {
        match n {
            Node::Stmt(s) if s.flops > 0 => {
                match statements.last_mut() {
                    Some((stage, lanes, count)) if *stage == s.stage && *lanes == s.lanes => *count += 1,
                    _ => statements.push((s.stage, s.lanes, 1)),
                }
                any = true;
            }
            Node::Loop(l) => {
                flush(out, &mut statements);
                // Follow a chain of loops that each hold just one loop.
                let mut chain = vec![l];
                while let [Node::Loop(inner)] = chain[chain.len() - 1].body.as_slice() {
                    chain.push(inner);
                }
                let mut inner = String::new();
                let last = chain[chain.len() - 1];
                if outline_nodes(&mut inner, &last.body, depth + 1, names) {
                    let heads: Vec<String> = chain
                        .iter()
                        .map(|l| {
                            let kind = match l.kind {
                                LoopKind::Serial => "",
                                LoopKind::Parallel => " parallel",
                                LoopKind::Groups => " work-groups",
                                LoopKind::Items => " work-items",
                            };
                            let unroll = l.unroll.map(|u| format!(" unroll{u}")).unwrap_or_default();
                            format!("{} x{}{kind}{unroll}", l.var, l.trips)
                        })
                        .collect();
                    let _ = writeln!(out, "{}for {}", " ".repeat(depth), heads.join(", "));
                    out.push_str(&inner);
                    any = true;
                }
            }
            Node::If { then, otherwise, .. } => {
                flush(out, &mut statements);
                // The fast (full-tile) branch stands for both.
                let shown = if then.is_empty() { otherwise } else { then };
                any |= outline_nodes(out, shown, depth, names);
            }
            Node::Barrier | Node::GroupBarrier => {
                flush(out, &mut statements);
                let _ = writeln!(out, "{}barrier", " ".repeat(depth));
            }
            Node::Comment(text) if text.starts_with("pack ") => {
                flush(out, &mut statements);
                let _ = writeln!(out, "{}{}", " ".repeat(depth), text.split(" as ").next().unwrap_or(text));
            }
            Node::Stmt(_) | Node::Let { .. } | Node::Comment(_) => {}
        }
    }
    flush(out, &mut statements);
    any
}

fn print_nodes(out: &mut String, nodes: &[Node], depth: usize, target: Target) {
    let pad = "  ".repeat(depth);
    for n in nodes {
        match n {
            // Bound to the NDRange: an index, and the body at the same
            // scope (where `__local` declarations must stay).
            Node::Loop(l) if matches!(l.kind, LoopKind::Groups | LoopKind::Items) => {
                let id = if l.kind == LoopKind::Groups { "get_group_id" } else { "get_local_id" };
                let _ = writeln!(out, "{pad}long {} = {id}(0);", l.var);
                print_nodes(out, &l.body, depth, target);
            }
            Node::Loop(l) => {
                if let Some(u) = l.unroll {
                    let pragma = if target == Target::Cpu { "GCC unroll" } else { "unroll" };
                    let _ = writeln!(out, "{pad}#pragma {pragma} {u}");
                }
                let step = if l.step == 1 { format!("{}++", l.var) } else { format!("{} += {}", l.var, l.step) };
                let _ = writeln!(out, "{pad}for (long {v} = {}; {v} < {}; {step}) {{", l.start, l.end, v = l.var);
                print_nodes(out, &l.body, depth + 1, target);
                let _ = writeln!(out, "{pad}}}");
            }
            Node::Let { var, value } => {
                if var.is_empty() {
                    let _ = writeln!(out, "{pad}{value}");
                } else {
                    let _ = writeln!(out, "{pad}long {var} = {value};");
                }
            }
            Node::If { cond, then, otherwise, .. } => {
                let _ = writeln!(out, "{pad}if ({cond}) {{");
                print_nodes(out, then, depth + 1, target);
                if otherwise.is_empty() {
                    let _ = writeln!(out, "{pad}}}");
                } else {
                    let _ = writeln!(out, "{pad}}} else {{");
                    print_nodes(out, otherwise, depth + 1, target);
                    let _ = writeln!(out, "{pad}}}");
                }
            }
            Node::Stmt(s) => {
                let _ = writeln!(out, "{pad}{}", s.text);
            }
            Node::Barrier => {
                let _ = writeln!(out, "{pad}if (ntasks > 1) barrier(barrier_ctx);");
            }
            Node::GroupBarrier => {
                let _ = writeln!(out, "{pad}barrier(CLK_LOCAL_MEM_FENCE | CLK_GLOBAL_MEM_FENCE);");
            }
            Node::Comment(text) => {
                let _ = writeln!(out, "{pad}/* {} */", text.replace("*/", "* /"));
            }
        }
    }
}
