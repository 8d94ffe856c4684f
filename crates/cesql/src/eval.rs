//! Evaluating a parsed expression against an event's attributes, by the rules of the
//! crate docs' "Errors and values": each node yields a value, errors are collected
//! beside it, and an operator whose operand failed yields its zero value without
//! evaluating further.

use crate::ast::{BinaryOp, Node};
use crate::value::{self, Type, Val};
use crate::{Attributes, EvalError};

pub(crate) struct Ctx<'e> {
    pub attributes: &'e dyn Attributes,
    pub errors: Vec<EvalError>,
}

impl Ctx<'_> {
    /// Whether an error was recorded since `mark` (a length of `errors`).
    fn failed_since(&self, mark: usize) -> bool {
        self.errors.len() > mark
    }
}

pub(crate) fn eval<'a>(node: &'a Node, ctx: &mut Ctx<'_>) -> Val<'a> {
    let mark = ctx.errors.len();
    match node {
        Node::Literal(value) => Val::borrowed(value),
        Node::Attribute(name) => match ctx.attributes.attribute(name) {
            Some(value) => Val::owned(value),
            None => {
                ctx.errors
                    .push(EvalError::MissingAttribute(name.to_string()));
                Val::Boolean(false)
            }
        },
        Node::Exists(name) => Val::Boolean(ctx.attributes.has_attribute(name)),
        Node::Not(operand) => {
            let v = eval(operand, ctx);
            if ctx.failed_since(mark) {
                return Val::zero(Type::Boolean);
            }
            Val::Boolean(!value::to_boolean(v, &mut ctx.errors))
        }
        Node::Negate(operand) => {
            let v = eval(operand, ctx);
            if ctx.failed_since(mark) {
                return Val::zero(Type::Integer);
            }
            let i = value::to_integer(v, &mut ctx.errors);
            Val::Integer(i.checked_neg().unwrap_or_else(|| {
                ctx.errors.push(overflow(format_args!("-({i})")));
                i32::MAX
            }))
        }
        Node::Like {
            operand,
            pattern,
            negated,
        } => {
            let v = eval(operand, ctx);
            if ctx.failed_since(mark) {
                return Val::zero(Type::Boolean);
            }
            Val::Boolean(pattern.matches(&value::to_string(v)) != *negated)
        }
        Node::In {
            operand,
            set,
            negated,
        } => {
            let x = eval(operand, ctx);
            if ctx.failed_since(mark) {
                return Val::zero(Type::Boolean);
            }
            for element in set {
                let before = ctx.errors.len();
                let y = eval(element, ctx);
                if ctx.failed_since(before) {
                    return Val::zero(Type::Boolean);
                }
                // IN casts the set's elements to the type of its left operand.
                if value::cast(y, x.ty(), &mut ctx.errors) == x {
                    return Val::Boolean(!negated);
                }
            }
            Val::Boolean(*negated)
        }
        Node::Chain { first, rest } => chain(first, rest, ctx),
        Node::Call { function, args } => {
            let mut values = Vec::with_capacity(args.len());
            for (i, arg) in args.iter().enumerate() {
                let before = ctx.errors.len();
                let v = eval(arg, ctx);
                if ctx.failed_since(before) {
                    return Val::zero(function.return_type());
                }
                values.push(match function.param_type(i) {
                    Some(ty) => value::cast(v, ty, &mut ctx.errors),
                    None => v,
                });
            }
            function.call(values, &mut ctx.errors)
        }
        Node::UnknownFunction { name, arity } => {
            ctx.errors.push(EvalError::MissingFunction(format!(
                "no function `{name}` takes {arity} argument{}",
                if *arity == 1 { "" } else { "s" }
            )));
            Val::Boolean(false)
        }
    }
}

/// One precedence level, left to right: `((first op1 x1) op2 x2) ...`.
fn chain<'a>(first: &'a Node, rest: &'a [(BinaryOp, Node)], ctx: &mut Ctx<'_>) -> Val<'a> {
    let mark = ctx.errors.len();
    let mut acc = eval(first, ctx);
    for (op, right) in rest {
        // An error so far, in an operand or a step, is an error in this step's left
        // operand: this step, and each after it, yields its zero value.
        if ctx.failed_since(mark) {
            return Val::zero(op.return_type());
        }
        acc = match op {
            BinaryOp::And | BinaryOp::Or => {
                let left = value::to_boolean(acc, &mut ctx.errors);
                // Short circuit: `false AND x` and `true OR x` never look at x.
                if left == (*op == BinaryOp::Or) {
                    Val::Boolean(left)
                } else {
                    let before = ctx.errors.len();
                    let y = eval(right, ctx);
                    if ctx.failed_since(before) {
                        return Val::zero(Type::Boolean);
                    }
                    Val::Boolean(value::to_boolean(y, &mut ctx.errors))
                }
            }
            _ => {
                let before = ctx.errors.len();
                let y = eval(right, ctx);
                if ctx.failed_since(before) {
                    return Val::zero(op.return_type());
                }
                step(*op, acc, y, ctx)
            }
        };
    }
    acc
}

/// `x op y` for the operators that evaluate both sides.
fn step<'a>(op: BinaryOp, x: Val<'a>, y: Val<'a>, ctx: &mut Ctx<'_>) -> Val<'a> {
    let errors = &mut ctx.errors;
    match op {
        BinaryOp::Xor => {
            let x = value::to_boolean(x, errors);
            Val::Boolean(x ^ value::to_boolean(y, errors))
        }
        // `=` is defined for every type: the right operand's type chooses which, and the
        // left operand is cast to it (spec §3.7), so `sequence = 10` compares Integers.
        BinaryOp::Eq | BinaryOp::NotEq => {
            let x = value::cast(x, y.ty(), errors);
            Val::Boolean((x == y) == (op == BinaryOp::Eq))
        }
        BinaryOp::Lt | BinaryOp::Le | BinaryOp::Gt | BinaryOp::Ge => {
            let x = value::to_integer(x, errors);
            let y = value::to_integer(y, errors);
            Val::Boolean(match op {
                BinaryOp::Lt => x < y,
                BinaryOp::Le => x <= y,
                BinaryOp::Gt => x > y,
                _ => x >= y,
            })
        }
        _ => {
            let x = value::to_integer(x, errors);
            let y = value::to_integer(y, errors);
            Val::Integer(arithmetic(op, x, y, errors))
        }
    }
}

/// `+ - * / %` on 32-bit integers. Division truncates toward zero and the remainder
/// takes the dividend's sign (Rust's own `/` and `%`). Division by zero gives 0 and a
/// Math error (spec §3.4.2); a result outside the 32-bit range, which the spec leaves
/// open, gives the nearest bound and a Math error, as `ABS(-2147483648)` does.
fn arithmetic(op: BinaryOp, x: i32, y: i32, errors: &mut Vec<EvalError>) -> i32 {
    let exact = match op {
        BinaryOp::Add => x.checked_add(y),
        BinaryOp::Sub => x.checked_sub(y),
        BinaryOp::Mul => x.checked_mul(y),
        BinaryOp::Div | BinaryOp::Mod if y == 0 => {
            errors.push(EvalError::Math(format!(
                "`{x} {} 0` divides by zero",
                op.symbol()
            )));
            return 0;
        }
        BinaryOp::Div => x.checked_div(y),
        // Only i32::MIN % -1 overflows in Rust, and its remainder is 0.
        _ => Some(x.checked_rem(y).unwrap_or(0)),
    };
    exact.unwrap_or_else(|| {
        errors.push(overflow(format_args!("{x} {} {y}", op.symbol())));
        let wide = match op {
            BinaryOp::Add => i64::from(x) + i64::from(y),
            BinaryOp::Sub => i64::from(x) - i64::from(y),
            BinaryOp::Mul => i64::from(x) * i64::from(y),
            _ => i64::from(x) / i64::from(y),
        };
        wide.clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as i32
    })
}

fn overflow(expression: std::fmt::Arguments<'_>) -> EvalError {
    EvalError::Math(format!("`{expression}` is outside the 32-bit range"))
}
