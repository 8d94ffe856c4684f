//! What the TCK does not cover: nesting and length limits, characters beyond ASCII,
//! 32-bit overflow, how errors travel through operators and functions, and that no
//! input makes the parser or the evaluator panic.

use motif_cesql::{EvalError, MAX_NESTING, Value, parse};
use motif_contract::Event;

fn event() -> Event {
    Event::builder("1", "/src", "com.example.日本")
        .subject("Grüße")
        .extension("myint", 10)
        .extension("mybool", true)
        .extension("text", "日本語テキスト")
        .build()
        .unwrap()
}

/// The value and the error labels of `expression` on [`event`].
fn eval(expression: &str) -> (Value, Vec<&'static str>) {
    let parsed = parse(expression).unwrap_or_else(|e| panic!("{expression}: {e}"));
    let evaluation = parsed.evaluate(&event());
    let kinds = evaluation.errors.iter().map(EvalError::kind).collect();
    (evaluation.value, kinds)
}

fn ok(expression: &str, value: impl Into<Value>) {
    assert_eq!(eval(expression), (value.into(), vec![]), "{expression}");
}

fn err(expression: &str, value: impl Into<Value>, kind: &'static str) {
    assert_eq!(eval(expression), (value.into(), vec![kind]), "{expression}");
}

#[test]
fn nesting_is_capped_with_a_parse_error() {
    let nested =
        |open: &str, n: usize, close: &str| format!("{}TRUE{}", open.repeat(n), close.repeat(n));
    ok(&nested("(", MAX_NESTING, ")"), true);
    ok(&nested("NOT ", MAX_NESTING, ""), true);
    ok(&nested("BOOL(", MAX_NESTING, ")"), true);
    for too_deep in [
        nested("(", MAX_NESTING + 1, ")"),
        nested("NOT ", MAX_NESTING + 1, ""),
        nested("BOOL(", MAX_NESTING + 1, ")"),
        format!("{}1", "-".repeat(MAX_NESTING + 2)),
        format!("x{}", " LIKE 'a'".repeat(MAX_NESTING + 1)),
        format!("x{}", " IN (TRUE)".repeat(MAX_NESTING + 1)),
        nested("(", 1_000_000, ")"),
    ] {
        let err = parse(&too_deep).expect_err("too deep");
        assert!(err.message().contains("nests deeper than 64"), "{err}");
    }
}

#[test]
fn the_deepest_expression_evaluates_on_a_small_stack() {
    // Each level opens inside every precedence level at once, the worst case for the
    // parser's and the evaluator's recursion; `-(` is two levels of nesting.
    let level = "TRUE AND 1 = 1 + 1 * -(";
    let expression = format!(
        "{}1{}",
        level.repeat(MAX_NESTING / 2),
        ")".repeat(MAX_NESTING / 2)
    );
    let result = std::thread::Builder::new()
        .stack_size(512 * 1024)
        .spawn(move || {
            let parsed = parse(&expression).expect("parses");
            let cloned = parsed.clone();
            (parsed.evaluate(&event()), cloned.matches(&event()))
        })
        .unwrap()
        .join()
        .expect("no stack overflow");
    assert_eq!(result.0.errors, vec![]);
    assert_eq!(result.0.value, Value::Boolean(true));
    assert!(result.1);
}

#[test]
fn long_flat_expressions_are_lists_not_deep_trees() {
    let terms = 100_000;
    let any_of = format!(
        "{}type = 'com.example.日本'",
        "type = 'x' OR ".repeat(terms)
    );
    let parsed = parse(&any_of).unwrap();
    assert!(parsed.matches(&event()));
    std::thread::Builder::new()
        .stack_size(256 * 1024)
        .spawn(move || drop(parsed))
        .unwrap()
        .join()
        .expect("dropping a long expression needs no deep recursion");

    ok(&format!("0{}", " + 1".repeat(terms)), 100_000);
    ok(&format!("myint{}", " - 1".repeat(10)), 0);

    let long = "é".repeat(1_000_000);
    ok(&format!("LENGTH('{long}')"), 1_000_000);
    ok(&format!("'{long}x' LIKE '%x'"), true);
    ok(&format!("'{long}' LIKE '%é_é%x'"), false);
}

#[test]
fn strings_count_characters_not_bytes() {
    ok("LENGTH(text)", 7);
    ok("LENGTH('é')", 1);
    ok("SUBSTRING(text, 2, 2)", "本語");
    ok("SUBSTRING(text, -3)", "キスト");
    ok("LEFT(text, 3)", "日本語");
    ok("RIGHT(subject, 3)", "üße");
    ok("text LIKE '日本語____'", true);
    ok("text LIKE '日本語___'", false);
    ok("type LIKE '%.__'", true);
    ok("UPPER(subject)", "GRÜSSE");
    ok("LOWER('ÀÉ')", "àé");
    ok("TRIM('\u{3000} a\u{2003}\t')", "a");
    ok("CONCAT_WS('・', '日', '本')", "日・本");
    err("SUBSTRING('日本', 3)", "", "functionEvaluation");
}

#[test]
fn a_missing_attribute_zeroes_the_operator_around_it() {
    err("missing", false, "missingAttribute");
    err("LENGTH(missing)", 0, "missingAttribute");
    err("CONCAT('a', missing)", "", "missingAttribute");
    err("missing IN (1, 2)", false, "missingAttribute");
    err("missing NOT IN (1, 2)", false, "missingAttribute");
    err("1 IN (missing, 1)", false, "missingAttribute");
    err("missing NOT LIKE 'x'", false, "missingAttribute");
    err("NOT (missing = 1)", false, "missingAttribute");
    err("(missing * 5) + 1", 0, "missingAttribute");
    err("missing OR TRUE", false, "missingAttribute");
    ok("FALSE AND missing", false);
    ok("TRUE OR missing", true);
    ok("1 IN (1, missing)", true);
    ok("EXISTS missing", false);
}

#[test]
fn errors_stop_the_evaluation_at_the_first() {
    let (value, kinds) = eval("(1 / 0) + missing + NOPE()");
    assert_eq!((value, kinds), (Value::Integer(0), vec!["math"]));
    // An unknown function does not evaluate its arguments.
    err("NOPE(missing)", false, "missingFunction");
    err("nope()", false, "missingFunction");
}

#[test]
fn arithmetic_outside_32_bits_is_a_math_error_at_the_bound() {
    err("2147483647 + 1", i32::MAX, "math");
    err("-2147483648 - 1", i32::MIN, "math");
    err("65536 * 65536", i32::MAX, "math");
    err("-65536 * 65536", i32::MIN, "math");
    err("-(-2147483648)", i32::MAX, "math");
    err("-2147483648 / -1", i32::MAX, "math");
    ok("-2147483648 % -1", 0);
    ok("-7 / 2", -3);
    ok("-7 % 2", -1);
    ok("7 % -2", 1);
    err("1 % 0", 0, "math");
}

#[test]
fn casts_follow_the_right_operand() {
    ok("myint = 10", true);
    ok("myint = '10'", true);
    ok("'10' = myint", true);
    ok("mybool = 'TRUE'", false);
    ok("'TRUE' = mybool", true);
    ok("TRUE = 1", true);
    err("1 = TRUE", false, "cast");
    err("'abc' < 1", true, "cast");
    err("'x' + 1", 1, "cast");
    err("myint AND TRUE", false, "cast");
    err("LEFT('abc', 'x')", "", "cast");
    ok("BOOL(myint)", true);
    ok("INT('+5')", 5);
    err("INT('2147483648')", 0, "cast");
    ok("STRING(myint) = '10'", true);
    ok("LENGTH(myint)", 2);
    ok("'1' IN (TRUE, 1)", true);
}

#[test]
fn only_a_boolean_true_without_errors_matches() {
    let event = event();
    for (expression, matches) in [
        ("TRUE", true),
        ("'true'", false),
        ("1", false),
        ("myint", false),
        ("mybool", true),
        ("NOT 10", false),
        ("EXISTS myint", true),
        ("missing = missing", false),
    ] {
        assert_eq!(
            parse(expression).unwrap().matches(&event),
            matches,
            "{expression}"
        );
    }
}

#[test]
fn parse_errors_say_where() {
    let err = parse("type = 'a' AND AND").unwrap_err();
    assert_eq!(err.column(), 16);
    assert_eq!(err.kind(), "parse");
    assert_eq!(
        err.to_string(),
        "expected an expression, found `AND` at column 16"
    );
    assert_eq!(parse("type = 'a'").unwrap().to_string(), "type = 'a'");
}

/// Random token soup: nothing panics, and whatever parses evaluates.
#[test]
fn no_input_panics() {
    const PIECES: &[&str] = &[
        "(",
        ")",
        ",",
        "NOT",
        "-",
        "+",
        "*",
        "/",
        "%",
        "=",
        "!=",
        "<>",
        "<",
        "<=",
        ">",
        ">=",
        "AND",
        "OR",
        "XOR",
        "LIKE",
        "IN",
        "EXISTS",
        "TRUE",
        "false",
        "0",
        "1",
        "-1",
        "2147483647",
        "2147483648",
        "'a%_\\'",
        "\"é\"",
        "''",
        "'",
        "myint",
        "text",
        "missing",
        "SUBSTRING",
        "LEFT",
        "ABS",
        "INT",
        "BOOL",
        "CONCAT_WS",
        "NOPE",
        "é",
        "#",
        "_",
        "\\",
    ];
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = move || {
        // xorshift64: deterministic, so a failure reproduces.
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let event = event();
    let mut parsed = 0;
    for _ in 0..20_000 {
        let len = 1 + next() % 12;
        let input: Vec<&str> = (0..len)
            .map(|_| PIECES[(next() % PIECES.len() as u64) as usize])
            .collect();
        let input = input.join(if next() % 2 == 0 { " " } else { "" });
        if let Ok(expression) = parse(&input) {
            parsed += 1;
            let evaluation = expression.evaluate(&event);
            let passes = evaluation.value == Value::Boolean(true) && evaluation.errors.is_empty();
            assert_eq!(expression.matches(&event), passes, "{input}");
        }
    }
    assert!(parsed > 100, "the soup should parse sometimes ({parsed})");
}
