//! The parsed form of an expression.
//!
//! Operators of one precedence level form a [`Node::Chain`] evaluated left to right, so
//! that `a OR b OR c ...` with thousands of terms is a flat list, not a tree as deep as
//! it is long (which would overflow the stack when evaluated or dropped).

use crate::Value;
use crate::functions::Builtin;
use crate::like::Pattern;
use crate::value::Type;

#[derive(Clone, Debug)]
pub(crate) enum Node {
    Literal(Value),
    /// An attribute, its name in lower case.
    Attribute(Box<str>),
    /// `EXISTS name`.
    Exists(Box<str>),
    Not(Box<Node>),
    Negate(Box<Node>),
    Like {
        operand: Box<Node>,
        pattern: Pattern,
        negated: bool,
    },
    In {
        operand: Box<Node>,
        set: Vec<Node>,
        negated: bool,
    },
    /// `first op1 rest1 op2 rest2 ...`, all the ops of one precedence level, left
    /// associative.
    Chain {
        first: Box<Node>,
        rest: Vec<(BinaryOp, Node)>,
    },
    Call {
        function: Builtin,
        args: Vec<Node>,
    },
    /// A call that no built-in function takes: `false` and a MissingFunction error when
    /// evaluated (spec §3.5), not a parse error.
    UnknownFunction {
        name: Box<str>,
        arity: usize,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum BinaryOp {
    And,
    Or,
    Xor,
    Eq,
    NotEq,
    Lt,
    Le,
    Gt,
    Ge,
    Add,
    Sub,
    Mul,
    Div,
    Mod,
}

/// The precedence levels of the binary operators, loosest first (spec §3.6).
pub(crate) const LOGIC: u8 = 0;
pub(crate) const COMPARISON: u8 = 1;
pub(crate) const ADDITIVE: u8 = 2;
pub(crate) const MULTIPLICATIVE: u8 = 3;

impl BinaryOp {
    pub(crate) fn level(self) -> u8 {
        match self {
            BinaryOp::And | BinaryOp::Or | BinaryOp::Xor => LOGIC,
            BinaryOp::Eq
            | BinaryOp::NotEq
            | BinaryOp::Lt
            | BinaryOp::Le
            | BinaryOp::Gt
            | BinaryOp::Ge => COMPARISON,
            BinaryOp::Add | BinaryOp::Sub => ADDITIVE,
            BinaryOp::Mul | BinaryOp::Div | BinaryOp::Mod => MULTIPLICATIVE,
        }
    }

    /// What the operator returns; every operator of a level returns the same type.
    pub(crate) fn return_type(self) -> Type {
        match self.level() {
            LOGIC | COMPARISON => Type::Boolean,
            _ => Type::Integer,
        }
    }

    pub(crate) fn symbol(self) -> &'static str {
        match self {
            BinaryOp::And => "AND",
            BinaryOp::Or => "OR",
            BinaryOp::Xor => "XOR",
            BinaryOp::Eq => "=",
            BinaryOp::NotEq => "!=",
            BinaryOp::Lt => "<",
            BinaryOp::Le => "<=",
            BinaryOp::Gt => ">",
            BinaryOp::Ge => ">=",
            BinaryOp::Add => "+",
            BinaryOp::Sub => "-",
            BinaryOp::Mul => "*",
            BinaryOp::Div => "/",
            BinaryOp::Mod => "%",
        }
    }
}
