//! TaskRouter's expression language: parsed once, evaluated without allocating.
//!
//! Routing rules and `taskrouter eval` use the same SQL-like language as Workflow filters and
//! TaskQueue `TargetWorkers` (docs/taskrouter.md §5;
//! <https://www.twilio.com/docs/taskrouter/expression-syntax>):
//!
//! ```text
//! (language == "en" OR language == "fr") AND skill_rating >= 5.1
//! task.required_language IN worker.spoken_languages
//! preferred_agents != null
//! taskrouter.dayOfWeek IN ['Mon', 'Tue'] AND taskrouter.currentTime > 0800
//! ```
//!
//! [`Expression::parse`] turns the text into a small tree; [`Expression::evaluate`] walks it
//! against a [`Scope`] that resolves each [`Reference`] to a borrowed [`Operand`]. Evaluation
//! never fails and never allocates: operands borrow either the caller's JSON or the literals
//! stored in the expression.
//!
//! ```
//! use serde_json::json;
//! use taskrouter_lambda::expression::{Expression, JsonScope};
//!
//! let expression = Expression::parse("task.type == 'ticket' AND worker.skills HAS 'support'")?;
//! let task = json!({"type": "ticket"});
//! let worker = json!({"skills": ["support", "billing"]});
//! assert!(expression.evaluate(&JsonScope { task: &task, worker: &worker, now: None }));
//! # Ok::<(), taskrouter_lambda::expression::SyntaxError>(())
//! ```
//!
//! # Syntax
//!
//! - Literals: strings in `'…'` or `"…"`, integers (`42`, `-1`, `0800`), floats (`5.1`, `-0.5`),
//!   `true`, `false`, `null`, and arrays of those (`['a', "b", 1]`, possibly empty).
//! - References: keys made of letters, digits and `_` (not starting with a digit), joined by `.`,
//!   with `[n]` array indexes: `task.skills[2].name`. Hyphens are not allowed in keys
//!   (docs/taskrouter.md §5).
//! - Time of day: `taskrouter.currentTime`, `taskrouter.currentHour`, `taskrouter.currentMin` and
//!   `taskrouter.dayOfWeek`, in UTC, filled from the instant the [`Scope`] carries
//!   ([`crate::time_of_day`]; null without one).
//! - Operators: `==` (also written `=`), `!=`, `<`, `<=`, `>`, `>=`, `CONTAINS`, `IN`, `NOT IN`,
//!   `HAS`; logic `AND`, `OR` and parentheses. Keywords are case-insensitive (`in`, `In`, `and`…).
//!
//! # Decisions where Twilio is silent
//!
//! | question | decision |
//! |---|---|
//! | precedence | `AND` binds tighter than `OR`: `a OR b AND c` is `a OR (b AND c)`; both short-circuit |
//! | a bare value as a condition (`vip`, `true`) | a syntax error: write `vip == true`; `1 == 1` matches everything |
//! | string escapes | `\\`, `\'` and `\"`; any other backslash sequence is a syntax error |
//! | numbers | `-?digits(.digits)?`; leading zeros allowed (`0800` is 800, as in <https://www.twilio.com/docs/taskrouter/time-of-day-routing>); no exponents |
//! | integers vs floats | compared numerically and exactly: `1 == 1.0`, `2 > 1.5` |
//! | `=` instead of `==` | **accepted as equality**, exactly `==`: the worked example of the time-of-day page writes `taskrouter.dayOfWeek = 'Sat'` (the expression-syntax page only documents `==`), and users copy it. `<>`, `&&` and `\|\|` stay syntax errors that say what to write |
//! | `taskrouter.` references | only the four attributes TaskRouter fills, spelled as Twilio spells them (case-sensitive); anything else after `taskrouter.` (`taskrouter.currenttime`) is a syntax error, since it could only ever be null |
//! | `'THU'` and `taskrouter.dayOfWeek` | a string literal compared with `taskrouter.dayOfWeek`, alone or in an array literal, is read as a day name **in any case**: `'THU'`, `'thu'` and `'Thu'` all mean Thursday, so the worked example (`IN ['Mon', 'Tue', 'THU']`) routes Thursday as its prose says. A literal that is no day (`'Thurs'`, `1`) is a syntax error, as such a test could never hold. Values read from attributes compare exactly (`Thu` only) |
//! | `taskrouter.currentHour` (documented as a string) against numbers | `currentHour`, like `currentTime` and `currentMin`, **is a number**, so Twilio's `taskrouter.currentHour > 8 AND taskrouter.currentHour < 18` holds from 09:00 to 17:59; a string literal of digits compared with any of the three is read as that number (`'09'` is 9, `'0800'` is 800), so the documented string form works too; any other string is a syntax error |
//! | days and order | `<`, `<=`, `>`, `>=` and `CONTAINS` on `taskrouter.dayOfWeek` are syntax errors: string order (`'Fri' < 'Mon'`) is not the order of the week; list the days with `IN` |
//! | array literals | constants only (no references, no nesting) |
//! | keys that are keywords | `null`, `in`, `and`… cannot start a reference; reach them through a prefix (`task.in`) |
//! | nesting | at most [`MAX_NESTING`] levels of parentheses, so hostile input cannot exhaust the stack |
//!
//! The reading of literals against the time-of-day attributes applies to any reference whose
//! kind is [`Known`]: [`Expression::parse_with`] lets a caller name more (the rules engine does,
//! for its schedules' local attributes).
//!
//! # Type rules
//!
//! Twilio: "Using scalar operators on arrays results in false. Using array operators on two scalar
//! values also returns false." A missing key resolves to null. Here *scalar* means a string,
//! number or boolean; JSON objects behave like arrays for scalar operators and are never arrays.
//!
//! | operator | operands | result |
//! |---|---|---|
//! | `==` | two scalars | same type and equal value; numbers numerically; mixed types (`'1' == 1`) are false |
//! | `==` | null on either side | true exactly when both sides are null (a presence test) |
//! | `==` | an array or object and a non-null | false |
//! | `!=` | two scalars | the negation of `==`, so mixed types (`'1' != 1`) are true |
//! | `!=` | null on either side | true exactly when the other side is present and not null (`preferred_agents != null` holds for an array) |
//! | `!=` | an array or object and a non-null | false (a scalar operator on an array) |
//! | `<` `<=` `>` `>=` | two numbers / two strings | numeric order / lexicographic order by code point |
//! | `<` `<=` `>` `>=` | anything else (mixed types, booleans, null, arrays) | false |
//! | `CONTAINS` | two strings | substring test (`'abc' CONTAINS ''` is true); anything else false |
//! | `HAS` | array on the left, non-null scalar on the right | some element `==` the right side |
//! | `IN` | non-null scalar on the left, array on the right | some element `==` the left side |
//! | `NOT IN` | non-null scalar on the left, array on the right | no element `==` the left side |
//! | `HAS`, `IN`, `NOT IN` | any other shape, including a null or missing side | false |
//!
//! So a missing attribute fails every test except `== null` and `!= <non-null>`: in particular
//! `missing NOT IN ['a']` is false, like SQL's `NULL NOT IN (…)`, so a rule never matches on
//! data that is not there.

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

use serde_json::Value;

use crate::document::suggest;
use crate::time_of_day::{self, Attribute, Reading, TimeOfDay};

/// How deeply parentheses may nest. Parsing and evaluation recurse once per level; the limit
/// keeps hostile input from exhausting the stack while leaving room for any real routing rule.
pub const MAX_NESTING: usize = 32;

/// The operator list shown when an unknown word sits where an operator belongs.
const OPERATOR_LIST: &str = "operators are ==, !=, <, <=, >, >=, CONTAINS, IN, NOT IN and HAS";

/// What a reference is known to hold, so that literals compared with it are read in its terms
/// (module docs, *Decisions*): the time-of-day attributes, and whatever
/// [`Expression::parse_with`]'s caller names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Known {
    /// A day name, `Mon` … `Sun`: string literals compared with it are read in any case, and
    /// must be day names; it has no order.
    DayOfWeek,
    /// A number: string literals of digits compared with it are read as numbers.
    Number,
    /// `true` or `false`: literals compared with it must be booleans; it has no order.
    Boolean,
}

/// A parsed expression, ready to be evaluated any number of times.
#[derive(Debug, Clone, PartialEq)]
pub struct Expression {
    /// The text it was parsed from.
    source: String,
    /// The condition tree.
    root: Condition,
    /// Each distinct reference once; [`Term::Reference`] indexes into it.
    references: Vec<Reference>,
}

impl Expression {
    /// Parses an expression.
    ///
    /// # Errors
    ///
    /// [`SyntaxError`] naming the column of the first problem: an unclosed string or bracket,
    /// unbalanced parentheses, a missing operand or operator, an unknown operator, trailing
    /// tokens, a bad array index, a hyphen in a key, an empty expression, or parentheses nested
    /// deeper than [`MAX_NESTING`].
    pub fn parse(source: &str) -> Result<Expression, SyntaxError> {
        Expression::parse_with(source, &|_| None)
    }

    /// Parses an expression in which `known` names what more references hold (beyond
    /// `taskrouter.`'s), so literals compared with them are read and checked as with the
    /// time-of-day attributes: the rules engine names its schedules' local attributes this way.
    ///
    /// # Errors
    ///
    /// As [`Expression::parse`], and a literal that cannot be what the reference it is compared
    /// with holds (`'Thurs'` for a day, `'noon'` for a number), or an operator that does not
    /// apply to it (`<` on a day).
    pub fn parse_with(
        source: &str,
        known: &dyn Fn(&Reference) -> Option<Known>,
    ) -> Result<Expression, SyntaxError> {
        let tokens = Lexer::new(source).tokenize()?;
        let mut parser = Parser {
            source,
            tokens,
            position: 0,
            references: Vec::new(),
            known,
        };
        let root = parser.parse_expression()?;
        Ok(Expression {
            source: source.to_owned(),
            root,
            references: parser.references,
        })
    }

    /// The text the expression was parsed from.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Evaluates the expression against `scope`.
    ///
    /// Never fails: a missing reference is null and type mismatches follow the rules in the
    /// module documentation. Does not allocate (unless `scope` does).
    pub fn evaluate<S: Scope + ?Sized>(&self, scope: &S) -> bool {
        self.holds(&self.root, scope)
    }

    /// Every distinct reference in the expression, in order of first appearance, so callers can
    /// check them once at start (e.g. that each starts with `task` or `worker`).
    pub fn references(&self) -> impl Iterator<Item = &Reference> {
        self.references.iter()
    }

    fn holds<S: Scope + ?Sized>(&self, condition: &Condition, scope: &S) -> bool {
        match condition {
            Condition::Any(alternatives) => alternatives.iter().any(|c| self.holds(c, scope)),
            Condition::All(requirements) => requirements.iter().all(|c| self.holds(c, scope)),
            Condition::Compare {
                left,
                operator,
                right,
                ..
            } => operator.apply(self.operand(left, scope), self.operand(right, scope)),
        }
    }

    fn operand<'e, S: Scope + ?Sized>(&'e self, term: &'e Term, scope: &'e S) -> Operand<'e> {
        match term {
            Term::Literal(literal) => literal.as_operand(),
            Term::Array(items) => Operand::Array(Array::Literals(items)),
            Term::Reference(index) => self
                .references
                .get(*index)
                .map_or(Operand::Null, |reference| scope.resolve(reference)),
        }
    }
}

impl fmt::Display for Expression {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

impl FromStr for Expression {
    type Err = SyntaxError;

    fn from_str(source: &str) -> Result<Self, Self::Err> {
        Expression::parse(source)
    }
}

/// Looking inside a parsed expression: what it compares, whether its result is fixed, why it
/// holds or not. Used to check and explain Workflow configurations; evaluation does not need it.
impl Expression {
    /// The result when it does not depend on the scope at all, as far as a cheap proof goes:
    /// comparisons between constants (`1 == 1`, `'a' IN ['a']`), `x == null OR x != null` (and
    /// its negation `x == null AND x != null`), and `AND`/`OR` of those. `None` means "depends
    /// on the attributes" or "could not prove it".
    ///
    /// ```
    /// use taskrouter_lambda::expression::Expression;
    ///
    /// let constant = |text: &str| Expression::parse(text).map(|e| e.constant());
    /// assert_eq!(constant("1 == 1")?, Some(true));
    /// assert_eq!(constant("vip == true OR 'a' IN ['a', 'b']")?, Some(true));
    /// assert_eq!(constant("agent != null OR agent == null")?, Some(true));
    /// assert_eq!(constant("1 == 2 AND vip == true")?, Some(false));
    /// assert_eq!(constant("vip == true")?, None);
    /// # Ok::<(), taskrouter_lambda::expression::SyntaxError>(())
    /// ```
    pub fn constant(&self) -> Option<bool> {
        self.constant_of(&self.root)
    }

    /// Whether `other` tests exactly the same thing, however it is written: whitespace, quotes,
    /// keyword case, redundant parentheses and leading zeros do not matter (`type=="a"` and
    /// `(type == 'a')` are the same condition); the order of the parts does.
    pub fn same_condition(&self, other: &Expression) -> bool {
        same_condition(&self.root, &other.root) && self.references == other.references
    }

    /// The expression written one way: single spaces, single quotes, upper-case keywords,
    /// numbers without leading zeros, and parentheses around every `AND` or `OR` inside another
    /// (TaskRouter documents no precedence, so the canonical form never relies on it). Two
    /// expressions that are the [same condition](Self::same_condition) have the same canonical
    /// text, which parses back to that condition (as long as the added parentheses stay within
    /// [`MAX_NESTING`]).
    ///
    /// ```
    /// use taskrouter_lambda::expression::Expression;
    ///
    /// let expression = Expression::parse(r#"type=="a" and (level >= 05 or vip in [true])"#)?;
    /// assert_eq!(expression.canonical(), "type == 'a' AND (level >= 5 OR vip IN [true])");
    /// # Ok::<(), taskrouter_lambda::expression::SyntaxError>(())
    /// ```
    pub fn canonical(&self) -> String {
        let mut text = String::new();
        self.write_canonical(&self.root, false, &mut text);
        text
    }

    fn write_canonical(&self, condition: &Condition, nested: bool, out: &mut String) {
        match condition {
            Condition::Compare {
                left,
                operator,
                right,
                ..
            } => {
                self.write_term(left, out);
                out.push(' ');
                out.push_str(operator.as_str());
                out.push(' ');
                self.write_term(right, out);
            }
            Condition::Any(parts) | Condition::All(parts) => {
                let joiner = if matches!(condition, Condition::Any(_)) {
                    " OR "
                } else {
                    " AND "
                };
                if nested {
                    out.push('(');
                }
                for (position, part) in parts.iter().enumerate() {
                    if position > 0 {
                        out.push_str(joiner);
                    }
                    self.write_canonical(part, true, out);
                }
                if nested {
                    out.push(')');
                }
            }
        }
    }

    fn write_term(&self, term: &Term, out: &mut String) {
        use fmt::Write as _;
        match self.side(term) {
            Side::Literal(literal) => {
                let _ = write!(out, "{literal}");
            }
            Side::Array(items) => {
                let items: Vec<String> = items.iter().map(Literal::to_string).collect();
                let _ = write!(out, "[{}]", items.join(", "));
            }
            Side::Reference(reference) => out.push_str(reference.as_str()),
        }
    }

    /// Every comparison, in the order written.
    pub fn comparisons(&self) -> Vec<Comparison<'_>> {
        let mut found = Vec::new();
        self.collect_comparisons(&self.root, &mut found);
        found
    }

    /// Evaluates against `scope` and says why: the comparisons that decided the result, each with
    /// the values its references had. For a false `AND` that is its first false part (evaluation
    /// stops there), for a false `OR` every alternative, for a true `OR` the first true
    /// alternative, for a true `AND` every part.
    ///
    /// ```
    /// use serde_json::json;
    /// use taskrouter_lambda::expression::{Expression, JsonScope};
    ///
    /// let expression = Expression::parse("type == 'ticket' AND level >= 3")?;
    /// let task = json!({"type": "ticket", "level": 1});
    /// let why = expression.explain(&JsonScope { task: &task, worker: &json!({}), now: None });
    /// assert!(!why.holds);
    /// assert_eq!(why.comparisons.len(), 1);
    /// assert_eq!(why.comparisons[0].to_string(), "`level >= 3` is false (level = 1)");
    /// # Ok::<(), taskrouter_lambda::expression::SyntaxError>(())
    /// ```
    pub fn explain<S: Scope + ?Sized>(&self, scope: &S) -> Explanation {
        let mut comparisons = Vec::new();
        let holds = self.explain_condition(&self.root, scope, &mut comparisons);
        Explanation { holds, comparisons }
    }

    fn constant_of(&self, condition: &Condition) -> Option<bool> {
        match condition {
            Condition::Compare {
                left,
                operator,
                right,
                ..
            } => match (left, right) {
                (Term::Reference(_), _) | (_, Term::Reference(_)) => None,
                _ => Some(operator.apply(
                    self.operand(left, &NoAttributes),
                    self.operand(right, &NoAttributes),
                )),
            },
            Condition::Any(alternatives) => {
                let results: Vec<Option<bool>> =
                    alternatives.iter().map(|c| self.constant_of(c)).collect();
                if results.contains(&Some(true)) || has_presence_pair(alternatives) {
                    Some(true)
                } else if results.iter().all(|r| *r == Some(false)) {
                    Some(false)
                } else {
                    None
                }
            }
            Condition::All(requirements) => {
                let results: Vec<Option<bool>> =
                    requirements.iter().map(|c| self.constant_of(c)).collect();
                if results.contains(&Some(false)) || has_presence_pair(requirements) {
                    Some(false)
                } else if results.iter().all(|r| *r == Some(true)) {
                    Some(true)
                } else {
                    None
                }
            }
        }
    }

    fn collect_comparisons<'e>(
        &'e self,
        condition: &'e Condition,
        found: &mut Vec<Comparison<'e>>,
    ) {
        match condition {
            Condition::Any(parts) | Condition::All(parts) => {
                for part in parts {
                    self.collect_comparisons(part, found);
                }
            }
            Condition::Compare {
                left,
                operator,
                right,
                span,
            } => found.push(Comparison {
                text: self.text_of(*span),
                left: self.side(left),
                operator: operator.as_str(),
                right: self.side(right),
                applies: *operator,
            }),
        }
    }

    fn side<'e>(&'e self, term: &'e Term) -> Side<'e> {
        match term {
            Term::Literal(literal) => Side::Literal(literal),
            Term::Array(items) => Side::Array(items),
            Term::Reference(index) => match self.references.get(*index) {
                Some(reference) => Side::Reference(reference),
                // Indexes are made by the parser from this very list.
                None => Side::Literal(&Literal::Null),
            },
        }
    }

    /// The source of a comparison with each run of whitespace shown as one space, so a
    /// multi-line expression explains itself on one line.
    fn text_of(&self, (start, end): (usize, usize)) -> String {
        span(&self.source, start, end)
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    }

    fn explain_condition<S: Scope + ?Sized>(
        &self,
        condition: &Condition,
        scope: &S,
        out: &mut Vec<Explained>,
    ) -> bool {
        match condition {
            Condition::Compare {
                left, right, span, ..
            } => {
                let holds = self.holds(condition, scope);
                let mut values = Vec::new();
                for term in [left, right] {
                    if let Term::Reference(index) = term
                        && let Some(reference) = self.references.get(*index)
                        && !values.iter().any(|(name, _)| name == reference.as_str())
                    {
                        values.push((
                            reference.as_str().to_owned(),
                            render_operand(scope.resolve(reference)),
                        ));
                    }
                }
                out.push(Explained {
                    text: self.text_of(*span),
                    holds,
                    values,
                });
                holds
            }
            Condition::All(requirements) => {
                let mark = out.len();
                for requirement in requirements {
                    let before = out.len();
                    if !self.explain_condition(requirement, scope, out) {
                        // Only the part that failed explains a false AND.
                        out.drain(mark..before);
                        return false;
                    }
                }
                true
            }
            Condition::Any(alternatives) => {
                let mark = out.len();
                for alternative in alternatives {
                    let before = out.len();
                    if self.explain_condition(alternative, scope, out) {
                        // Only the alternative that held explains a true OR.
                        out.drain(mark..before);
                        return true;
                    }
                }
                false
            }
        }
    }
}

/// The scope of constant folding: every reference is null (none is ever resolved there).
struct NoAttributes;

impl Scope for NoAttributes {
    fn value(&self, _reference: &Reference) -> Operand<'_> {
        Operand::Null
    }
}

/// `r == null` (`Some((r, true))`) or `r != null` (`Some((r, false))`), either side.
fn presence_test(condition: &Condition) -> Option<(usize, bool)> {
    match condition {
        Condition::Compare {
            left: Term::Reference(index),
            operator,
            right: Term::Literal(Literal::Null),
            ..
        }
        | Condition::Compare {
            left: Term::Literal(Literal::Null),
            operator,
            right: Term::Reference(index),
            ..
        } => match operator {
            Operator::Equal => Some((*index, true)),
            Operator::NotEqual => Some((*index, false)),
            _ => None,
        },
        _ => None,
    }
}

/// Whether `parts` hold both `r == null` and `r != null` for some `r`: exactly one of the two
/// is true for any value, so an `OR` of them always holds and an `AND` never does.
fn has_presence_pair(parts: &[Condition]) -> bool {
    let tests: Vec<(usize, bool)> = parts.iter().filter_map(presence_test).collect();
    tests
        .iter()
        .any(|(index, absent)| tests.contains(&(*index, !absent)))
}

/// Structural equality ignoring where things are written.
fn same_condition(a: &Condition, b: &Condition) -> bool {
    match (a, b) {
        (Condition::Any(a), Condition::Any(b)) | (Condition::All(a), Condition::All(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(a, b)| same_condition(a, b))
        }
        (
            Condition::Compare {
                left: left_a,
                operator: operator_a,
                right: right_a,
                ..
            },
            Condition::Compare {
                left: left_b,
                operator: operator_b,
                right: right_b,
                ..
            },
        ) => left_a == left_b && operator_a == operator_b && right_a == right_b,
        _ => false,
    }
}

fn render_operand(operand: Operand<'_>) -> String {
    operand.to_string()
}

/// As an explanation shows a value: JSON text for what came from attributes (`"Sales"`,
/// `["a","b"]`, `null` for a missing key too), array literals in expression syntax, `{…}` for an
/// object.
impl fmt::Display for Operand<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = match *self {
            Operand::Null => "null".to_owned(),
            Operand::Bool(value) => value.to_string(),
            Operand::Integer(value) => value.to_string(),
            Operand::Float(value) => Literal::Float(value).to_string(),
            Operand::String(value) => Value::from(value).to_string(),
            Operand::Array(Array::Json(items)) => Value::from(items.to_vec()).to_string(),
            Operand::Array(Array::Literals(items)) => format!(
                "[{}]",
                items
                    .iter()
                    .map(Literal::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Operand::Object => "{…}".to_owned(),
        };
        f.write_str(&text)
    }
}

/// One comparison of an expression, as written.
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison<'e> {
    /// Its source text, whitespace runs shown as one space.
    pub text: String,
    /// The left operand.
    pub left: Side<'e>,
    /// The operator as documented: `==`, `!=`, `<`, `<=`, `>`, `>=`, `CONTAINS`, `IN`, `NOT IN`
    /// or `HAS`.
    pub operator: &'static str,
    /// The right operand.
    pub right: Side<'e>,
    /// The operator itself, to evaluate the comparison alone.
    applies: Operator,
}

impl Comparison<'_> {
    /// Evaluates this comparison alone against `scope`, by the same rules as a whole
    /// expression: what a checker needs to ask whether one test can ever hold.
    ///
    /// ```
    /// use serde_json::json;
    /// use taskrouter_lambda::expression::{Expression, JsonScope};
    ///
    /// let expression = Expression::parse("level >= 3 OR vip == true")?;
    /// let task = json!({"level": 4});
    /// let scope = JsonScope { task: &task, worker: &json!({}), now: None };
    /// let results: Vec<bool> = expression.comparisons().iter().map(|c| c.evaluate(&scope)).collect();
    /// assert_eq!(results, [true, false]);
    /// # Ok::<(), taskrouter_lambda::expression::SyntaxError>(())
    /// ```
    pub fn evaluate<S: Scope + ?Sized>(&self, scope: &S) -> bool {
        fn operand<'a, S: Scope + ?Sized>(side: Side<'a>, scope: &'a S) -> Operand<'a> {
            match side {
                Side::Literal(literal) => literal.as_operand(),
                Side::Array(items) => Operand::Array(Array::Literals(items)),
                Side::Reference(reference) => scope.resolve(reference),
            }
        }
        self.applies
            .apply(operand(self.left, scope), operand(self.right, scope))
    }
}

/// One side of a [`Comparison`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Side<'e> {
    /// A constant.
    Literal(&'e Literal),
    /// An array literal.
    Array(&'e [Literal]),
    /// A reference to an attribute.
    Reference(&'e Reference),
}

/// Why an expression holds or not, from [`Expression::explain`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Explanation {
    /// The result, the same as [`Expression::evaluate`]'s.
    pub holds: bool,
    /// The comparisons that decided it.
    pub comparisons: Vec<Explained>,
}

/// A comparison as evaluated. `Display` reads ``` `level >= 3` is false (level = 1) ```.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Explained {
    /// Its source text, whitespace runs shown as one space.
    pub text: String,
    /// Its result.
    pub holds: bool,
    /// Each reference it reads, once, with the value it had as JSON text (`null` when missing).
    pub values: Vec<(String, String)>,
}

impl fmt::Display for Explained {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}` is {}", self.text, self.holds)?;
        if !self.values.is_empty() {
            let values: Vec<String> = self
                .values
                .iter()
                .map(|(reference, value)| format!("{reference} = {value}"))
                .collect();
            write!(f, " ({})", values.join(", "))?;
        }
        Ok(())
    }
}

/// A node of the condition tree.
#[derive(Debug, Clone, PartialEq)]
enum Condition {
    /// `a OR b OR …`
    Any(Vec<Condition>),
    /// `a AND b AND …`
    All(Vec<Condition>),
    /// `left operator right`
    Compare {
        left: Term,
        operator: Operator,
        right: Term,
        /// Where the comparison is written: 0-based character indexes, end excluded.
        span: (usize, usize),
    },
}

/// One side of a comparison.
#[derive(Debug, Clone, PartialEq)]
enum Term {
    Literal(Literal),
    Array(Vec<Literal>),
    /// Index into [`Expression::references`].
    Reference(usize),
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Operator {
    Equal,
    NotEqual,
    Less,
    LessOrEqual,
    Greater,
    GreaterOrEqual,
    Contains,
    In,
    NotIn,
    Has,
}

impl Operator {
    fn as_str(self) -> &'static str {
        match self {
            Operator::Equal => "==",
            Operator::NotEqual => "!=",
            Operator::Less => "<",
            Operator::LessOrEqual => "<=",
            Operator::Greater => ">",
            Operator::GreaterOrEqual => ">=",
            Operator::Contains => "CONTAINS",
            Operator::In => "IN",
            Operator::NotIn => "NOT IN",
            Operator::Has => "HAS",
        }
    }

    /// The type rules of the module documentation.
    fn apply(self, left: Operand<'_>, right: Operand<'_>) -> bool {
        match self {
            Operator::Equal => equals(left, right),
            Operator::NotEqual => {
                if left.is_null() || right.is_null() {
                    left.is_null() != right.is_null()
                } else {
                    left.is_scalar() && right.is_scalar() && !equals(left, right)
                }
            }
            Operator::Less => order(left, right).is_some_and(Ordering::is_lt),
            Operator::LessOrEqual => order(left, right).is_some_and(Ordering::is_le),
            Operator::Greater => order(left, right).is_some_and(Ordering::is_gt),
            Operator::GreaterOrEqual => order(left, right).is_some_and(Ordering::is_ge),
            Operator::Contains => match (left, right) {
                (Operand::String(haystack), Operand::String(needle)) => haystack.contains(needle),
                _ => false,
            },
            Operator::Has => match left {
                Operand::Array(items) if right.is_scalar() => items.contains(right),
                _ => false,
            },
            Operator::In => match right {
                Operand::Array(items) if left.is_scalar() => items.contains(left),
                _ => false,
            },
            Operator::NotIn => match right {
                Operand::Array(items) if left.is_scalar() => !items.contains(left),
                _ => false,
            },
        }
    }
}

/// `==`: null equals only null; scalars of the same type by value, numbers numerically.
fn equals(left: Operand<'_>, right: Operand<'_>) -> bool {
    match (left, right) {
        (Operand::Null, Operand::Null) => true,
        (Operand::Bool(a), Operand::Bool(b)) => a == b,
        (Operand::String(a), Operand::String(b)) => a == b,
        _ => compare_numbers(left, right) == Some(Ordering::Equal),
    }
}

/// Ordering for `<`, `<=`, `>`, `>=`: numbers and strings only, never across types.
fn order(left: Operand<'_>, right: Operand<'_>) -> Option<Ordering> {
    match (left, right) {
        (Operand::String(a), Operand::String(b)) => Some(a.cmp(b)),
        _ => compare_numbers(left, right),
    }
}

fn compare_numbers(left: Operand<'_>, right: Operand<'_>) -> Option<Ordering> {
    match (left, right) {
        (Operand::Integer(a), Operand::Integer(b)) => Some(a.cmp(&b)),
        (Operand::Float(a), Operand::Float(b)) => a.partial_cmp(&b),
        (Operand::Integer(a), Operand::Float(b)) => compare_integer_to_float(a, b),
        (Operand::Float(a), Operand::Integer(b)) => {
            compare_integer_to_float(b, a).map(Ordering::reverse)
        }
        _ => None,
    }
}

/// Compares exactly: converting the integer to `f64` would round above 2^53 and make, say,
/// `9007199254740993 == 9007199254740992.0` true.
fn compare_integer_to_float(integer: i64, float: f64) -> Option<Ordering> {
    // 2^63 is exactly representable; every i64 is below it and at or above its negation.
    const TWO_POW_63: f64 = 9_223_372_036_854_775_808.0;
    if float.is_nan() {
        return None;
    }
    if float >= TWO_POW_63 {
        return Some(Ordering::Less);
    }
    if float < -TWO_POW_63 {
        return Some(Ordering::Greater);
    }
    let whole = float.trunc();
    // In range and integral, so the cast is exact.
    let whole_integer = whole as i64;
    Some(integer.cmp(&whole_integer).then_with(|| {
        // Same whole part: the fraction decides.
        0.0_f64
            .partial_cmp(&(float - whole))
            .unwrap_or(Ordering::Equal)
    }))
}

/// A constant written in the expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    /// `null`
    Null,
    /// `true` or `false`
    Bool(bool),
    /// An integer such as `42` or `-1`.
    Integer(i64),
    /// A number with a fractional part such as `5.1`; always finite.
    Float(f64),
    /// A quoted string, escapes already resolved.
    String(String),
}

/// In expression syntax: `null`, `true`, `42`, `5.1` (a float always with its point), `'text'`
/// with `\\` and `\'` escaped, so the text parses back to the same literal.
impl fmt::Display for Literal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Literal::Null => f.write_str("null"),
            Literal::Bool(value) => write!(f, "{value}"),
            Literal::Integer(value) => write!(f, "{value}"),
            Literal::Float(value) if value.fract() == 0.0 => {
                write!(f, "{value:.1}")
            }
            Literal::Float(value) => write!(f, "{value}"),
            Literal::String(value) => {
                write!(f, "'{}'", value.replace('\\', "\\\\").replace('\'', "\\'"))
            }
        }
    }
}

impl Literal {
    /// The literal as an operand borrowing from it.
    pub fn as_operand(&self) -> Operand<'_> {
        match self {
            Literal::Null => Operand::Null,
            Literal::Bool(value) => Operand::Bool(*value),
            Literal::Integer(value) => Operand::Integer(*value),
            Literal::Float(value) => Operand::Float(*value),
            Literal::String(value) => Operand::String(value),
        }
    }
}

/// What a reference or literal evaluates to, borrowed from the JSON or the expression.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Operand<'a> {
    /// JSON `null`, or a missing key or index.
    Null,
    /// A boolean.
    Bool(bool),
    /// A number that fits in `i64`.
    Integer(i64),
    /// Any other number (fractional, or an integer beyond `i64`).
    Float(f64),
    /// A string.
    String(&'a str),
    /// An array, from JSON or from an array literal.
    Array(Array<'a>),
    /// A JSON object: not comparable with any operator except `== null` / `!= null`.
    Object,
}

impl<'a> Operand<'a> {
    /// Borrows a JSON value as an operand.
    pub fn from_json(value: &'a Value) -> Self {
        match value {
            Value::Null => Operand::Null,
            Value::Bool(value) => Operand::Bool(*value),
            Value::Number(number) => match number.as_i64() {
                Some(integer) => Operand::Integer(integer),
                None => number.as_f64().map_or(Operand::Null, Operand::Float),
            },
            Value::String(value) => Operand::String(value),
            Value::Array(items) => Operand::Array(Array::Json(items)),
            Value::Object(_) => Operand::Object,
        }
    }

    /// Whether this is null (including a missing key).
    pub fn is_null(&self) -> bool {
        matches!(self, Operand::Null)
    }

    /// Whether this is a string, number or boolean: what scalar and array operators accept as
    /// a single value. Null is not a scalar here, so it fails every test but `==` / `!=`.
    pub fn is_scalar(&self) -> bool {
        matches!(
            self,
            Operand::Bool(_) | Operand::Integer(_) | Operand::Float(_) | Operand::String(_)
        )
    }
}

/// An array operand: a JSON array or an array literal, both borrowed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Array<'a> {
    /// Items of a JSON array.
    Json(&'a [Value]),
    /// Items of an array literal in the expression.
    Literals(&'a [Literal]),
}

impl<'a> Array<'a> {
    /// The number of items.
    pub fn len(&self) -> usize {
        match self {
            Array::Json(items) => items.len(),
            Array::Literals(items) => items.len(),
        }
    }

    /// Whether the array has no items.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The items as operands.
    pub fn iter(&self) -> ArrayIter<'a> {
        match self {
            Array::Json(items) => ArrayIter::Json(items.iter()),
            Array::Literals(items) => ArrayIter::Literals(items.iter()),
        }
    }

    /// Whether some item `==` `value`.
    fn contains(&self, value: Operand<'_>) -> bool {
        self.iter().any(|item| equals(item, value))
    }
}

/// Iterator over the items of an [`Array`], yielding operands without allocating.
#[derive(Debug, Clone)]
pub enum ArrayIter<'a> {
    /// Over a JSON array.
    Json(std::slice::Iter<'a, Value>),
    /// Over an array literal.
    Literals(std::slice::Iter<'a, Literal>),
}

impl<'a> Iterator for ArrayIter<'a> {
    type Item = Operand<'a>;

    fn next(&mut self) -> Option<Operand<'a>> {
        match self {
            ArrayIter::Json(items) => items.next().map(Operand::from_json),
            ArrayIter::Literals(items) => items.next().map(Literal::as_operand),
        }
    }
}

/// Walks `root` along `segments`. A missing key or index, or a step into a scalar, is null.
pub fn lookup<'a>(root: &'a Value, segments: &[Segment]) -> Operand<'a> {
    let mut current = root;
    for segment in segments {
        let next = match segment {
            Segment::Key(key) => current.as_object().and_then(|object| object.get(key)),
            Segment::Index(index) => current.as_array().and_then(|items| items.get(*index)),
        };
        match next {
            Some(value) => current = value,
            None => return Operand::Null,
        }
    }
    Operand::from_json(current)
}

/// Resolves references during evaluation.
///
/// The rules engine maps a first segment `task` to the task attributes, `worker` to the worker
/// attributes, `callback` to the callback fields, `taskrouter` to the time of day at the instant
/// of the decision ([`time_of_day_value`]), `schedules` to the document's schedules, and
/// anything else to the task attributes (as Workflow filters do, docs/taskrouter.md §5).
///
/// A scope supplies [`value`](Scope::value) for everything but the `taskrouter.` attributes, and
/// [`now`](Scope::now) when it carries an instant; [`resolve`](Scope::resolve) answers the
/// `taskrouter.` attributes from that instant once, for every scope.
pub trait Scope {
    /// The time of day the `taskrouter.` attributes are read at; `None` (the default) for a scope
    /// without an instant, where they are null.
    fn now(&self) -> Option<&TimeOfDay> {
        None
    }

    /// The value a reference other than a `taskrouter.` attribute names; [`Operand::Null`] when
    /// it names nothing.
    fn value(&self, reference: &Reference) -> Operand<'_>;

    /// The value `reference` names: a `taskrouter.` attribute at [`now`](Scope::now), anything
    /// else as [`value`](Scope::value) answers it. Nothing is allocated.
    fn resolve(&self, reference: &Reference) -> Operand<'_> {
        match time_of_day_value(reference, self.now()) {
            Some(value) => value,
            None => self.value(reference),
        }
    }
}

/// The value of a `taskrouter.` reference at `now`; `None` when `reference` is not one, so the
/// scope resolves it as usual ([`Scope::resolve`] asks this first). With no instant (`now` is
/// `None`) every attribute is null, as an attribute that is not there.
pub fn time_of_day_value(
    reference: &Reference,
    now: Option<&TimeOfDay>,
) -> Option<Operand<'static>> {
    let attribute = reference.time_of_day()?;
    Some(now.map_or(Operand::Null, |now| reading(now.get(attribute))))
}

/// A time-of-day reading as an operand.
pub fn reading(value: Reading) -> Operand<'static> {
    match value {
        Reading::Number(number) => Operand::Integer(number),
        Reading::Day(day) => Operand::String(day),
    }
}

impl Known {
    /// What a time-of-day attribute holds, so literals compared with it are read in its terms.
    pub fn of(attribute: Attribute) -> Known {
        match attribute {
            Attribute::DayOfWeek => Known::DayOfWeek,
            _ => Known::Number,
        }
    }
}

/// A [`Scope`] over task and worker attributes as JSON: `task.…` and `worker.…` walk the
/// respective document, `taskrouter.…` reads the time of day at `now`, any other reference
/// walks the task attributes.
#[derive(Debug, Clone, Copy)]
pub struct JsonScope<'a> {
    /// Task attributes.
    pub task: &'a Value,
    /// Worker attributes.
    pub worker: &'a Value,
    /// The instant the `taskrouter.` attributes are read at, already turned into them; `None`
    /// leaves them null.
    pub now: Option<TimeOfDay>,
}

impl Scope for JsonScope<'_> {
    fn now(&self) -> Option<&TimeOfDay> {
        self.now.as_ref()
    }

    fn value(&self, reference: &Reference) -> Operand<'_> {
        match reference.segments() {
            [Segment::Key(first), rest @ ..] if first == "task" => lookup(self.task, rest),
            [Segment::Key(first), rest @ ..] if first == "worker" => lookup(self.worker, rest),
            all => lookup(self.task, all),
        }
    }
}

/// A reference such as `task.skills[2].name`: its segments and the text it was written as.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Reference {
    text: String,
    segments: Vec<Segment>,
    /// The time-of-day attribute a `taskrouter.` reference names, found once when parsing so
    /// resolving it compares no strings.
    time_of_day: Option<Attribute>,
}

impl Reference {
    /// Parses a lone reference, e.g. the inside of a `{{worker.contact_uri}}` template.
    /// Surrounding whitespace is ignored.
    ///
    /// # Errors
    ///
    /// [`SyntaxError`] when `text` is empty, a keyword, holds a hyphen or a bad `[n]` index, or
    /// holds anything besides one reference.
    pub fn parse(text: &str) -> Result<Reference, SyntaxError> {
        let tokens = Lexer::new(text).tokenize()?;
        let help = "write keys joined by dots, with [n] indexes, e.g. worker.contact_uri";
        match tokens.as_slice() {
            [
                Token {
                    kind: TokenKind::Reference(reference),
                    ..
                },
                Token {
                    kind: TokenKind::End,
                    ..
                },
            ] => Ok(reference.clone()),
            [first, second, ..] if matches!(first.kind, TokenKind::Reference(_)) => {
                Err(unexpected(text, second, help))
            }
            [first, ..] => {
                let message = match first.kind {
                    TokenKind::End => "empty reference".to_owned(),
                    _ => format!("expected a reference, found {}", describe(text, first)),
                };
                Err(SyntaxError::new(text, first.start, message, help))
            }
            [] => Err(SyntaxError::new(text, 0, "empty reference", help)),
        }
    }

    /// The parsed segments.
    pub fn segments(&self) -> &[Segment] {
        &self.segments
    }

    /// The reference as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The TaskRouter time-of-day attribute this reference names (`taskrouter.dayOfWeek`, …),
    /// if it is one.
    pub fn time_of_day(&self) -> Option<Attribute> {
        self.time_of_day
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl FromStr for Reference {
    type Err = SyntaxError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Reference::parse(text)
    }
}

/// One step of a [`Reference`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Segment {
    /// `.key` (or the first key).
    Key(String),
    /// `[n]`
    Index(usize),
}

/// An expression or reference that does not parse.
///
/// `Display` shows the message with its column, the text on its own line, and a caret under
/// the column followed by what to do:
///
/// ```text
/// unexpected `)` at column 12
///   skills HAS )
///              ^ expected a value after HAS
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    message: String,
    help: String,
    column: usize,
    source: String,
}

impl SyntaxError {
    /// `index` is the 0-based character index of the problem.
    fn new(
        source: &str,
        index: usize,
        message: impl Into<String>,
        help: impl Into<String>,
    ) -> Self {
        SyntaxError {
            message: message.into(),
            help: help.into(),
            column: index + 1,
            source: source.to_owned(),
        }
    }

    /// The 1-based column, in characters, of the problem (one past the end for a premature
    /// end of input).
    pub fn column(&self) -> usize {
        self.column
    }

    /// What is wrong, e.g. ``unexpected `)` ``.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// What to do about it, e.g. `expected a value after HAS`.
    pub fn help(&self) -> &str {
        &self.help
    }

    /// The text that failed to parse.
    pub fn source_text(&self) -> &str {
        &self.source
    }
}

// Written by hand rather than with `thiserror` because the rendering spans several lines.
impl fmt::Display for SyntaxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{} at column {}", self.message, self.column)?;
        f.write_str("  ")?;
        // Line breaks and tabs would misplace the caret: show them as spaces.
        for c in self.source.chars() {
            if c.is_whitespace() {
                f.write_str(" ")?;
            } else {
                write!(f, "{c}")?;
            }
        }
        write!(
            f,
            "\n  {:indent$}^ {}",
            "",
            self.help,
            indent = self.column - 1
        )
    }
}

impl std::error::Error for SyntaxError {}

/// A lexical token, with its span as 0-based character indexes into the source.
#[derive(Debug, Clone)]
struct Token {
    kind: TokenKind,
    start: usize,
    end: usize,
}

#[derive(Debug, Clone, PartialEq)]
enum TokenKind {
    OpenParen,
    CloseParen,
    OpenBracket,
    CloseBracket,
    Comma,
    Operator(Operator),
    Not,
    And,
    Or,
    Literal(Literal),
    Reference(Reference),
    End,
}

/// How a token is named in messages: its text in backquotes, or `end of expression`.
fn describe(source: &str, token: &Token) -> String {
    if token.kind == TokenKind::End {
        "end of expression".to_owned()
    } else {
        format!("`{}`", span(source, token.start, token.end))
    }
}

/// The characters `start..end` of `source`.
fn span(source: &str, start: usize, end: usize) -> String {
    source.chars().skip(start).take(end - start).collect()
}

fn unexpected(source: &str, token: &Token, help: impl Into<String>) -> SyntaxError {
    let message = format!("unexpected {}", describe(source, token));
    SyntaxError::new(source, token.start, message, help)
}

fn is_key_start(c: char) -> bool {
    c.is_alphabetic() || c == '_'
}

fn is_key_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

struct Lexer<'s> {
    source: &'s str,
    chars: Vec<char>,
    position: usize,
}

impl<'s> Lexer<'s> {
    fn new(source: &'s str) -> Self {
        Lexer {
            source,
            chars: source.chars().collect(),
            position: 0,
        }
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.position).copied()
    }

    /// The characters from `start` to the current position.
    fn text(&self, start: usize) -> String {
        self.chars[start..self.position].iter().collect()
    }

    fn peek_at(&self, offset: usize) -> Option<char> {
        self.chars.get(self.position + offset).copied()
    }

    fn error(
        &self,
        index: usize,
        message: impl Into<String>,
        help: impl Into<String>,
    ) -> SyntaxError {
        SyntaxError::new(self.source, index, message, help)
    }

    fn tokenize(mut self) -> Result<Vec<Token>, SyntaxError> {
        let mut tokens = Vec::new();
        loop {
            while self.peek().is_some_and(char::is_whitespace) {
                self.position += 1;
            }
            let start = self.position;
            let Some(c) = self.peek() else {
                tokens.push(Token {
                    kind: TokenKind::End,
                    start,
                    end: start,
                });
                return Ok(tokens);
            };
            let kind = match c {
                '(' => self.single(TokenKind::OpenParen),
                ')' => self.single(TokenKind::CloseParen),
                '[' => self.single(TokenKind::OpenBracket),
                ']' => self.single(TokenKind::CloseBracket),
                ',' => self.single(TokenKind::Comma),
                '\'' | '"' => TokenKind::Literal(Literal::String(self.string(c)?)),
                '0'..='9' | '-' => TokenKind::Literal(self.number()?),
                '=' | '!' | '<' | '>' | '&' | '|' => TokenKind::Operator(self.operator()?),
                c if is_key_start(c) => self.word()?,
                c => {
                    return Err(self.error(
                        start,
                        format!("unexpected character `{c}`"),
                        "expected a value, a key, an operator or a parenthesis",
                    ));
                }
            };
            tokens.push(Token {
                kind,
                start,
                end: self.position,
            });
        }
    }

    fn single(&mut self, kind: TokenKind) -> TokenKind {
        self.position += 1;
        kind
    }

    /// A quoted string; the opening quote is at the current position.
    fn string(&mut self, quote: char) -> Result<String, SyntaxError> {
        let start = self.position;
        self.position += 1;
        let mut value = String::new();
        loop {
            match self.peek() {
                None => {
                    return Err(self.error(
                        start,
                        "unclosed string",
                        format!("close the string with {quote}"),
                    ));
                }
                Some(c) if c == quote => {
                    self.position += 1;
                    return Ok(value);
                }
                Some('\\') => match self.peek_at(1) {
                    Some(escaped @ ('\\' | '\'' | '"')) => {
                        value.push(escaped);
                        self.position += 2;
                    }
                    Some(other) => {
                        return Err(self.error(
                            self.position,
                            format!("unknown escape `\\{other}`"),
                            r#"the only escapes are \\, \' and \""#,
                        ));
                    }
                    None => {
                        return Err(self.error(
                            start,
                            "unclosed string",
                            format!("close the string with {quote}"),
                        ));
                    }
                },
                Some(c) => {
                    value.push(c);
                    self.position += 1;
                }
            }
        }
    }

    fn skip_digits(&mut self) -> usize {
        let start = self.position;
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.position += 1;
        }
        self.position - start
    }

    /// `-?digits(.digits)?`
    fn number(&mut self) -> Result<Literal, SyntaxError> {
        let start = self.position;
        if self.peek() == Some('-') {
            self.position += 1;
            if !self.peek().is_some_and(|c| c.is_ascii_digit()) {
                return Err(self.error(
                    start,
                    "unexpected `-`",
                    "a negative number is written like -1; keys cannot contain hyphens",
                ));
            }
        }
        self.skip_digits();
        let mut is_float = false;
        if self.peek() == Some('.') {
            self.position += 1;
            is_float = true;
            if self.skip_digits() == 0 {
                return Err(self.error(
                    self.position,
                    "expected digits after the decimal point",
                    "write 1.0 or 1, not 1.",
                ));
            }
        }
        if let Some(c) = self.peek().filter(|&c| is_key_char(c)) {
            return Err(self.error(
                self.position,
                format!("unexpected `{c}` after a number"),
                "keys start with a letter or underscore; separate tokens with spaces",
            ));
        }
        let text = self.text(start);
        let out_of_range = || {
            self.error(
                start,
                format!("number `{text}` is out of range"),
                "integers must fit in 64 bits and floats must be finite",
            )
        };
        if is_float {
            match text.parse::<f64>() {
                Ok(value) if value.is_finite() => Ok(Literal::Float(value)),
                _ => Err(out_of_range()),
            }
        } else {
            text.parse::<i64>()
                .map(Literal::Integer)
                .map_err(|_| out_of_range())
        }
    }

    /// `==`, `!=`, `<`, `<=`, `>`, `>=`, and helpful errors for look-alikes from other languages.
    fn operator(&mut self) -> Result<Operator, SyntaxError> {
        let start = self.position;
        let (operator, length) = match (self.peek(), self.peek_at(1)) {
            (Some('='), Some('=')) => (Ok(Operator::Equal), 2),
            (Some('!'), Some('=')) => (Ok(Operator::NotEqual), 2),
            (Some('<'), Some('=')) => (Ok(Operator::LessOrEqual), 2),
            (Some('>'), Some('=')) => (Ok(Operator::GreaterOrEqual), 2),
            (Some('<'), Some('>')) => (Err("use != to test inequality"), 2),
            (Some('<'), _) => (Ok(Operator::Less), 1),
            (Some('>'), _) => (Ok(Operator::Greater), 1),
            // The time-of-day page's worked example writes `=` (module docs, *Decisions*).
            (Some('='), _) => (Ok(Operator::Equal), 1),
            (Some('!'), _) => (Err("use != or NOT IN; there is no other negation"), 1),
            (Some('&'), Some('&')) => (Err("use AND to combine conditions"), 2),
            (Some('&'), _) => (Err("use AND to combine conditions"), 1),
            (Some('|'), Some('|')) => (Err("use OR to combine conditions"), 2),
            // Only a lone `|` is left: the lexer calls this for `=`, `!`, `<`, `>`, `&` and `|`.
            _ => (Err("use OR to combine conditions"), 1),
        };
        self.position += length;
        operator.map_err(|help| {
            let message = format!("unknown operator `{}`", self.text(start));
            self.error(start, message, help)
        })
    }

    /// A keyword, or a reference: `key(.key|[n])*`.
    fn word(&mut self) -> Result<TokenKind, SyntaxError> {
        let start = self.position;
        let mut segments = vec![Segment::Key(self.key())];
        loop {
            match self.peek() {
                Some('.') => {
                    self.position += 1;
                    if !self.peek().is_some_and(is_key_start) {
                        return Err(self.error(
                            self.position,
                            "expected a key after `.`",
                            "join keys with single dots, e.g. object.attr; index arrays with [n]",
                        ));
                    }
                    segments.push(Segment::Key(self.key()));
                }
                Some('[') => segments.push(Segment::Index(self.index()?)),
                Some('-') => {
                    return Err(self.error(
                        self.position,
                        "hyphens are not allowed in keys",
                        "TaskRouter keys hold letters, digits and underscores; rename the attribute",
                    ));
                }
                _ => break,
            }
        }
        if let [Segment::Key(word)] = segments.as_slice() {
            let keyword = match word.to_ascii_lowercase().as_str() {
                "and" => Some(TokenKind::And),
                "or" => Some(TokenKind::Or),
                "not" => Some(TokenKind::Not),
                "in" => Some(TokenKind::Operator(Operator::In)),
                "has" => Some(TokenKind::Operator(Operator::Has)),
                "contains" => Some(TokenKind::Operator(Operator::Contains)),
                "true" => Some(TokenKind::Literal(Literal::Bool(true))),
                "false" => Some(TokenKind::Literal(Literal::Bool(false))),
                "null" => Some(TokenKind::Literal(Literal::Null)),
                _ => None,
            };
            if let Some(keyword) = keyword {
                return Ok(keyword);
            }
        }
        let time_of_day = self.time_of_day(start, &segments)?;
        Ok(TokenKind::Reference(Reference {
            text: self.text(start),
            segments,
            time_of_day,
        }))
    }

    /// The attribute a reference starting with `taskrouter` names; an error for anything else
    /// under that root, which TaskRouter reserves and which could only ever be null.
    fn time_of_day(
        &self,
        start: usize,
        segments: &[Segment],
    ) -> Result<Option<Attribute>, SyntaxError> {
        let [Segment::Key(root), rest @ ..] = segments else {
            return Ok(None);
        };
        if root != time_of_day::ROOT {
            return Ok(None);
        }
        // A name that differs only in case is named as such; a likely typo (by edit distance,
        // the same measure as for instruction keys) gets the closest attribute. Only an error
        // builds the list of names.
        let help = |name: &str| {
            let names = time_of_day::attribute_names();
            let suggestion = Attribute::ALL
                .iter()
                .map(|attribute| attribute.name())
                .find(|known| known.eq_ignore_ascii_case(name));
            match suggestion {
                Some(known) => {
                    format!("did you mean `taskrouter.{known}`? Names are case-sensitive")
                }
                None => match suggest(name, Attribute::ALL.map(Attribute::name)) {
                    Some(known) => format!(
                        "did you mean `taskrouter.{known}`? TaskRouter fills taskrouter. followed by one of {names}"
                    ),
                    None => format!("TaskRouter fills taskrouter. followed by one of {names}"),
                },
            }
        };
        match rest {
            [Segment::Key(name)] => match Attribute::from_name(name) {
                Some(attribute) => Ok(Some(attribute)),
                None => Err(self.error(
                    start,
                    format!("unknown time-of-day attribute `{}`", self.text(start)),
                    help(name),
                )),
            },
            _ => Err(self.error(
                start,
                format!("`{}` is not a time-of-day attribute", self.text(start)),
                help(""),
            )),
        }
    }

    fn key(&mut self) -> String {
        let start = self.position;
        while self.peek().is_some_and(is_key_char) {
            self.position += 1;
        }
        self.text(start)
    }

    /// `[n]`; the `[` is at the current position.
    fn index(&mut self) -> Result<usize, SyntaxError> {
        let open = self.position;
        self.position += 1;
        let start = self.position;
        while self.peek().is_some_and(|c| c != ']' && !c.is_whitespace()) {
            self.position += 1;
        }
        let content = self.text(start);
        let help = "an index is a non-negative integer, e.g. skills[0]";
        let closed = self.peek() == Some(']');
        if content.is_empty() && closed {
            return Err(self.error(start, "missing array index", help));
        }
        if content.is_empty() || !content.chars().all(|c| c.is_ascii_digit()) {
            return Err(self.error(start, format!("bad array index `{content}`"), help));
        }
        if !closed {
            return Err(self.error(open, "unclosed `[`", "close the index with ]"));
        }
        self.position += 1;
        content
            .parse()
            .map_err(|_| self.error(start, format!("array index `{content}` is too large"), help))
    }
}

struct Parser<'s, 'k> {
    source: &'s str,
    tokens: Vec<Token>,
    position: usize,
    references: Vec<Reference>,
    /// What the caller knows references hold, beyond the time-of-day attributes.
    known: &'k dyn Fn(&Reference) -> Option<Known>,
}

/// The 0-based character spans of the literals in a term: one for a literal, one per item for an
/// array literal, none for a reference.
type Spans = Vec<(usize, usize)>;

impl Parser<'_, '_> {
    fn peek(&self) -> &Token {
        // The lexer always ends the list with `End`, and nothing advances past it.
        &self.tokens[self.position.min(self.tokens.len() - 1)]
    }

    fn advance(&mut self) -> Token {
        let token = self.peek().clone();
        if token.kind != TokenKind::End {
            self.position += 1;
        }
        token
    }

    fn unexpected(&self, help: impl Into<String>) -> SyntaxError {
        unexpected(self.source, self.peek(), help)
    }

    fn parse_expression(&mut self) -> Result<Condition, SyntaxError> {
        if self.peek().kind == TokenKind::End {
            return Err(SyntaxError::new(
                self.source,
                self.peek().start,
                "empty expression",
                "write a condition such as `1 == 1`",
            ));
        }
        let condition = self.parse_any(0)?;
        match self.peek().kind {
            TokenKind::End => Ok(condition),
            TokenKind::CloseParen => Err(self.unexpected("there is no ( to close")),
            _ => Err(self.unexpected("join conditions with AND or OR")),
        }
    }

    /// `all (OR all)*`
    fn parse_any(&mut self, depth: usize) -> Result<Condition, SyntaxError> {
        let mut alternatives = vec![self.parse_all(depth)?];
        while self.peek().kind == TokenKind::Or {
            self.advance();
            alternatives.push(self.parse_all(depth)?);
        }
        Ok(if alternatives.len() == 1 {
            alternatives.swap_remove(0)
        } else {
            Condition::Any(alternatives)
        })
    }

    /// `condition (AND condition)*`
    fn parse_all(&mut self, depth: usize) -> Result<Condition, SyntaxError> {
        let mut requirements = vec![self.parse_condition(depth)?];
        while self.peek().kind == TokenKind::And {
            self.advance();
            requirements.push(self.parse_condition(depth)?);
        }
        Ok(if requirements.len() == 1 {
            requirements.swap_remove(0)
        } else {
            Condition::All(requirements)
        })
    }

    /// `( any )` or a comparison.
    fn parse_condition(&mut self, depth: usize) -> Result<Condition, SyntaxError> {
        if self.peek().kind != TokenKind::OpenParen {
            return self.parse_comparison();
        }
        let open = self.advance();
        if depth >= MAX_NESTING {
            return Err(SyntaxError::new(
                self.source,
                open.start,
                format!("parentheses nest deeper than {MAX_NESTING} levels"),
                "simplify the expression",
            ));
        }
        let inner = self.parse_any(depth + 1)?;
        match self.peek().kind {
            TokenKind::CloseParen => {
                self.advance();
                Ok(inner)
            }
            TokenKind::End => Err(SyntaxError::new(
                self.source,
                open.start,
                "unclosed `(`",
                "add a matching )",
            )),
            _ => Err(self.unexpected("expected AND, OR or )")),
        }
    }

    /// `term operator term`
    fn parse_comparison(&mut self) -> Result<Condition, SyntaxError> {
        let first = self.peek().start;
        let (mut left, left_spans) =
            self.parse_term("a condition starts with a value, a key or (")?;
        // Only needed for an error message; computed then, as it walks the source from the start.
        let left_text =
            |parser: &Self| span(parser.source, first, parser.tokens[parser.position - 1].end);
        let token = self.peek().clone();
        let operator = match &token.kind {
            TokenKind::Operator(operator) => {
                self.advance();
                *operator
            }
            TokenKind::Not => {
                self.advance();
                if self.peek().kind != TokenKind::Operator(Operator::In) {
                    return Err(self.unexpected("NOT is only used as NOT IN"));
                }
                self.advance();
                Operator::NotIn
            }
            TokenKind::Reference(word) => {
                return Err(SyntaxError::new(
                    self.source,
                    token.start,
                    format!("unknown operator `{word}`"),
                    OPERATOR_LIST,
                ));
            }
            TokenKind::End | TokenKind::And | TokenKind::Or | TokenKind::CloseParen => {
                return Err(SyntaxError::new(
                    self.source,
                    first,
                    format!("`{}` is not a condition", left_text(self)),
                    format!(
                        "compare it, e.g. `{} == true`; `1 == 1` matches everything",
                        left_text(self)
                    ),
                ));
            }
            _ => {
                let help = format!("expected an operator after `{}`", left_text(self));
                return Err(self.unexpected(help));
            }
        };
        let (mut right, right_spans) =
            self.parse_term(&format!("expected a value after {}", operator.as_str()))?;
        self.read_literals(
            (&mut left, &left_spans),
            (operator, &token),
            (&mut right, &right_spans),
        )?;
        Ok(Condition::Compare {
            left,
            operator,
            right,
            span: (first, self.tokens[self.position - 1].end),
        })
    }

    /// What a term is known to hold: the time-of-day attributes, then what the caller names.
    fn known(&self, term: &Term) -> Option<(Known, &Reference)> {
        let Term::Reference(index) = term else {
            return None;
        };
        let reference = self.references.get(*index)?;
        reference
            .time_of_day()
            .map(Known::of)
            .or_else(|| (self.known)(reference))
            .map(|known| (known, reference))
    }

    /// When one side of a comparison is a reference of a [`Known`] kind: checks the operator
    /// applies to it and reads the literals on the other side in its terms (module docs,
    /// *Decisions*).
    fn read_literals(
        &self,
        (left, left_spans): (&mut Term, &Spans),
        (operator, operator_token): (Operator, &Token),
        (right, right_spans): (&mut Term, &Spans),
    ) -> Result<(), SyntaxError> {
        let (known, reference, other, spans) = match (self.known(left), self.known(right)) {
            (Some((known, reference)), _) => (known, reference.clone(), right, right_spans),
            (None, Some((known, reference))) => (known, reference.clone(), left, left_spans),
            (None, None) => return Ok(()),
        };
        let unordered = matches!(
            operator,
            Operator::Less
                | Operator::LessOrEqual
                | Operator::Greater
                | Operator::GreaterOrEqual
                | Operator::Contains
        );
        match known {
            Known::DayOfWeek if unordered => {
                return Err(SyntaxError::new(
                    self.source,
                    operator_token.start,
                    format!("`{}` does not apply to days of the week", operator.as_str()),
                    format!(
                        "days have no order here: list them, e.g. `{reference} IN ['Mon', 'Tue']`"
                    ),
                ));
            }
            Known::Boolean if unordered => {
                return Err(SyntaxError::new(
                    self.source,
                    operator_token.start,
                    format!("`{}` does not apply to true or false", operator.as_str()),
                    format!("compare with == or !=, e.g. `{reference} == true`"),
                ));
            }
            _ => {}
        }
        let literals: Vec<&mut Literal> = match other {
            Term::Literal(literal) => vec![literal],
            Term::Array(items) => items.iter_mut().collect(),
            Term::Reference(_) => return Ok(()),
        };
        for (literal, &(start, end)) in literals.into_iter().zip(spans) {
            self.read_literal(known, &reference, literal, start, end)?;
        }
        Ok(())
    }

    /// Reads one literal compared with `reference` in the terms of `known`.
    fn read_literal(
        &self,
        known: Known,
        reference: &Reference,
        literal: &mut Literal,
        start: usize,
        end: usize,
    ) -> Result<(), SyntaxError> {
        let problem = |what: &str, help: String| {
            SyntaxError::new(
                self.source,
                start,
                format!("`{}` is not {what}", span(self.source, start, end)),
                help,
            )
        };
        match (known, &*literal) {
            (_, Literal::Null) => Ok(()),
            (Known::DayOfWeek, Literal::String(name)) => match time_of_day::parse_day(name) {
                Some(day) => {
                    *literal = Literal::String(time_of_day::day_name(day).to_owned());
                    Ok(())
                }
                None => Err(problem("a day of the week", day_help(reference, literal))),
            },
            (Known::DayOfWeek, _) => {
                Err(problem("a day of the week", day_help(reference, literal)))
            }
            (Known::Number, Literal::Integer(_) | Literal::Float(_)) => Ok(()),
            (Known::Number, Literal::String(digits))
                if !digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit()) =>
            {
                match digits.parse::<i64>() {
                    Ok(number) => {
                        *literal = Literal::Integer(number);
                        Ok(())
                    }
                    Err(_) => Err(problem("a number in range", number_help(reference))),
                }
            }
            (Known::Number, _) => Err(problem("a number", number_help(reference))),
            (Known::Boolean, Literal::Bool(_)) => Ok(()),
            (Known::Boolean, _) => Err(problem(
                "true or false",
                format!(
                    "`{reference}` is true or false: compare it with one, e.g. `{reference} == true`"
                ),
            )),
        }
    }

    /// A literal, a reference or an array literal, with the spans of its literals.
    fn parse_term(&mut self, help: &str) -> Result<(Term, Spans), SyntaxError> {
        let token = self.peek().clone();
        match token.kind {
            TokenKind::Literal(literal) => {
                self.advance();
                Ok((Term::Literal(literal), vec![(token.start, token.end)]))
            }
            TokenKind::Reference(reference) => {
                self.advance();
                let index = match self.references.iter().position(|r| *r == reference) {
                    Some(index) => index,
                    None => {
                        self.references.push(reference);
                        self.references.len() - 1
                    }
                };
                Ok((Term::Reference(index), Vec::new()))
            }
            TokenKind::OpenBracket => self.parse_array(),
            _ => Err(self.unexpected(help)),
        }
    }

    /// `[ (literal (, literal)*)? ]`
    fn parse_array(&mut self) -> Result<(Term, Spans), SyntaxError> {
        let open = self.advance();
        let mut items = Vec::new();
        let mut spans = Vec::new();
        if self.peek().kind == TokenKind::CloseBracket {
            self.advance();
            return Ok((Term::Array(items), spans));
        }
        let source = self.source;
        let unclosed =
            || SyntaxError::new(source, open.start, "unclosed `[`", "close the array with ]");
        let mut help = "expected a value in the array";
        loop {
            match self.peek().kind.clone() {
                TokenKind::Literal(literal) => {
                    let token = self.advance();
                    items.push(literal);
                    spans.push((token.start, token.end));
                }
                TokenKind::End => return Err(unclosed()),
                TokenKind::Reference(_) | TokenKind::OpenBracket => {
                    return Err(self.unexpected(
                        "array literals hold only strings, numbers, booleans and null",
                    ));
                }
                _ => return Err(self.unexpected(help)),
            }
            match self.peek().kind {
                TokenKind::Comma => {
                    self.advance();
                    help = "expected a value after ,";
                }
                TokenKind::CloseBracket => {
                    self.advance();
                    return Ok((Term::Array(items), spans));
                }
                TokenKind::End => return Err(unclosed()),
                _ => return Err(self.unexpected("separate array items with , and close with ]")),
            }
        }
    }
}

/// What to write instead of a literal that is not a day.
fn day_help(reference: &Reference, literal: &Literal) -> String {
    let days = "write Mon, Tue, Wed, Thu, Fri, Sat or Sun (in any case)";
    // Full or longer names (`'Thursday'`, `'Tues'`) are the usual slip: name the day they begin
    // with.
    let meant = match literal {
        Literal::String(name) => name.get(..3).and_then(time_of_day::parse_day),
        _ => None,
    };
    match meant {
        Some(day) => format!(
            "`{reference}` holds a day: did you mean '{}'? {days}",
            time_of_day::day_name(day)
        ),
        None => format!("`{reference}` holds a day: {days}"),
    }
}

/// What to write instead of a literal that is not a number.
fn number_help(reference: &Reference) -> String {
    format!("`{reference}` holds a number: compare it with one, e.g. `{reference} >= 8`")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_an_instant_every_time_of_day_attribute_is_null_and_other_references_are_left_alone()
    {
        let reference = Reference::parse("taskrouter.currentTime").expect("a reference");
        assert_eq!(time_of_day_value(&reference, None), Some(Operand::Null));
        let now = TimeOfDay::utc("2026-12-03T14:30:00Z".parse().expect("an instant"));
        assert_eq!(
            time_of_day_value(&reference, Some(&now)),
            Some(Operand::Integer(1430))
        );
        let task = Reference::parse("task.currentTime").expect("a reference");
        assert_eq!(time_of_day_value(&task, Some(&now)), None);
    }
    use proptest::prelude::*;
    use serde_json::json;

    fn parse(source: &str) -> Expression {
        Expression::parse(source)
            .unwrap_or_else(|error| panic!("`{source}` should parse:\n{error}"))
    }

    fn evaluate(source: &str, task: &Value, worker: &Value) -> bool {
        parse(source).evaluate(&JsonScope {
            task,
            worker,
            now: None,
        })
    }

    fn rendered_error(source: &str) -> String {
        Expression::parse(source)
            .expect_err("the expression is invalid")
            .to_string()
    }

    #[test]
    fn twilio_examples_parse_and_evaluate_as_documented() {
        // docs/taskrouter.md §5 and https://www.twilio.com/docs/taskrouter/expression-syntax; each
        // example appears once where it should match and once where it should not.
        let none = json!({});
        #[rustfmt::skip]
        let cases = [
            ("1 == 1", json!({}), json!({}), true, "constants compare"),
            ("0 != 1", json!({}), json!({}), true, "different integers differ"),
            (r#""apple" != "orange""#, json!({}), json!({}), true, "different strings differ"),
            ("key > 1", json!({"key": 2}), none.clone(), true, "2 is greater than 1"),
            ("key > 1", json!({"key": 1}), none.clone(), false, "1 is not greater than 1"),
            (r#"object.param != "apple""#, json!({"object": {"param": "pear"}}), none.clone(), true, "a nested key that differs"),
            (r#"object.param != "apple""#, json!({"object": {"param": "apple"}}), none.clone(), false, "a nested key that is equal"),
            (r#"language IN ["en", "es"]"#, json!({"language": "es"}), none.clone(), true, "a listed language"),
            (r#"language IN ["en", "es"]"#, json!({"language": "fr"}), none.clone(), false, "an unlisted language"),
            ("(condition_a == true) OR (condition_b == true)", json!({"condition_b": true}), none.clone(), true, "the second alternative holds"),
            ("(condition_a == true) OR (condition_b == true)", json!({"condition_a": false}), none.clone(), false, "neither alternative holds"),
            (r#"(language == "en" OR language == "fr") AND skill_rating >= 5.1"#, json!({"language": "fr", "skill_rating": 6}), none.clone(), true, "french and skilled enough"),
            (r#"(language == "en" OR language == "fr") AND skill_rating >= 5.1"#, json!({"language": "en", "skill_rating": 5}), none.clone(), false, "english but not skilled enough"),
            ("(skills HAS 'support') AND (languages HAS 'english')", json!({"skills": ["support"], "languages": ["english", "dutch"]}), none.clone(), true, "has both"),
            ("(skills HAS 'support') AND (languages HAS 'english')", json!({"skills": ["sales"], "languages": ["english"]}), none.clone(), false, "lacks the skill"),
            ("customer_value == 'Gold' AND type == 'ticket'", json!({"customer_value": "Gold", "type": "ticket"}), none.clone(), true, "a gold ticket"),
            ("customer_value == 'Gold' AND type == 'ticket'", json!({"customer_value": "Gold", "type": "call"}), none.clone(), false, "a gold call"),
            ("type == 'ticket' AND customer_value IN ['Silver', 'Bronze']", json!({"type": "ticket", "customer_value": "Bronze"}), none.clone(), true, "a bronze ticket"),
            ("type == 'ticket' AND customer_value IN ['Silver', 'Bronze']", json!({"type": "ticket", "customer_value": "Gold"}), none.clone(), false, "a gold ticket is not silver or bronze"),
            ("task.requested_agent == worker.agent_id", json!({"requested_agent": "alice"}), json!({"agent_id": "alice"}), true, "the requested agent"),
            ("task.requested_agent == worker.agent_id", json!({"requested_agent": "alice"}), json!({"agent_id": "bob"}), false, "another agent"),
            ("task.required_language IN worker.spoken_languages", json!({"required_language": "de"}), json!({"spoken_languages": ["en", "de"]}), true, "the worker speaks it"),
            ("task.required_language IN worker.spoken_languages", json!({"required_language": "de"}), json!({"spoken_languages": ["en"]}), false, "the worker does not speak it"),
            ("worker.id IN task.preferred_agents", json!({"preferred_agents": [7, 8]}), json!({"id": 8}), true, "a preferred agent"),
            ("worker.id IN task.preferred_agents", json!({"preferred_agents": [7, 8]}), json!({"id": 9}), false, "not a preferred agent"),
            ("preferred_agents != null", json!({"preferred_agents": ["WK1"]}), none.clone(), true, "an array is present"),
            ("preferred_agents != null", json!({"preferred_agents": null}), none.clone(), false, "explicitly null"),
            ("preferred_agents != null", json!({}), none.clone(), false, "missing"),
        ];
        for (source, task, worker, expected, message) in cases {
            assert_eq!(
                evaluate(source, &task, &worker),
                expected,
                "{message}: `{source}`"
            );
        }
    }

    #[test]
    fn references_resolve_as_in_twilios_example_document() {
        // The attributes and keys of https://www.twilio.com/docs/taskrouter/expression-syntax.
        let task =
            json!({"string_const": "foo", "object": {"array": ["a", "b", "c"], "attr": "bar"}});
        let resolve = |text: &str| {
            let reference = Reference::parse(text).expect("valid reference");
            lookup(&task, reference.segments())
        };
        assert_eq!(resolve("string_const"), Operand::String("foo"));
        assert_eq!(resolve("object.attr"), Operand::String("bar"));
        assert_eq!(resolve("object.array[2]"), Operand::String("c"));
        let Operand::Array(array) = resolve("object.array") else {
            panic!("object.array should be an array");
        };
        let items: Vec<Operand<'_>> = array.iter().collect();
        assert_eq!(
            items,
            [
                Operand::String("a"),
                Operand::String("b"),
                Operand::String("c")
            ]
        );
    }

    #[test]
    fn lookup_yields_null_for_anything_that_is_not_there() {
        let root = json!({"a": {"b": [1, {"c": true}]}, "s": "text"});
        #[rustfmt::skip]
        let cases = [
            ("a.b[1].c", Operand::Bool(true), "a full path"),
            ("a.b[0]", Operand::Integer(1), "an index"),
            ("a", Operand::Object, "an object"),
            ("missing", Operand::Null, "a missing key"),
            ("a.b[2]", Operand::Null, "an index past the end"),
            ("s.length", Operand::Null, "a key on a string"),
            ("s[0]", Operand::Null, "an index on a string"),
            ("a[0]", Operand::Null, "an index on an object"),
            ("a.b.c", Operand::Null, "a key on an array"),
        ];
        for (text, expected, message) in cases {
            let reference = Reference::parse(text).expect("valid reference");
            assert_eq!(
                lookup(&root, reference.segments()),
                expected,
                "{message}: {text}"
            );
        }
    }

    #[test]
    fn json_numbers_become_integers_when_they_fit_and_floats_otherwise() {
        assert_eq!(Operand::from_json(&json!(-5)), Operand::Integer(-5));
        assert_eq!(Operand::from_json(&json!(2.5)), Operand::Float(2.5));
        assert_eq!(
            Operand::from_json(&json!(u64::MAX)),
            Operand::Float(u64::MAX as f64)
        );
    }

    #[test]
    fn operators_follow_the_documented_type_rules() {
        // One row per row of the module's type-rule table.
        let task = json!({
            "text": "support desk", "one": 1, "one_float": 1.0, "half": 0.5, "yes": true,
            "nothing": null, "tags": ["a", 1, null], "empty": [], "object": {"a": 1}
        });
        #[rustfmt::skip]
        let cases = [
            ("text == 'support desk'", true, "equal strings"),
            ("one == one_float", true, "integer and float compare numerically"),
            ("one == '1'", false, "number and string are never equal"),
            ("yes == 1", false, "boolean and number are never equal"),
            ("nothing == null", true, "null equals null"),
            ("missing == null", true, "a missing key equals null"),
            ("tags == null", false, "a present array is not null"),
            ("one == null", false, "a present number is not null"),
            ("tags == tags", false, "== on arrays is false"),
            ("object == object", false, "== on objects is false"),
            ("one != '1'", true, "!= on mixed scalar types negates =="),
            ("one != one_float", false, "!= on numerically equal numbers"),
            ("tags != null", true, "!= null holds for a present array"),
            ("object != null", true, "!= null holds for a present object"),
            ("missing != null", false, "!= null fails for a missing key"),
            ("nothing != null", false, "!= null fails for an explicit null"),
            ("missing != 'x'", true, "a missing key differs from any value"),
            ("null != missing", false, "null does not differ from a missing key"),
            ("tags != 'a'", false, "!= on an array and a scalar is false"),
            ("tags != tags", false, "!= on two arrays is false"),
            ("half < one", true, "float below integer"),
            ("one >= one_float", true, "integer at float"),
            ("'apple' < 'banana'", true, "strings order lexicographically"),
            ("'b' <= 'a'", false, "strings order lexicographically, other way"),
            ("one < '2'", false, "ordering across types is false"),
            ("yes > false", false, "booleans do not order"),
            ("missing < 1", false, "null does not order"),
            ("tags > 0", false, "arrays do not order"),
            ("text CONTAINS 'desk'", true, "substring"),
            ("text CONTAINS 'Desk'", false, "substring is case-sensitive"),
            ("text CONTAINS ''", true, "the empty string is a substring"),
            ("one CONTAINS 1", false, "CONTAINS on numbers is false"),
            ("tags CONTAINS 'a'", false, "CONTAINS on an array is false"),
            ("tags HAS 'a'", true, "HAS finds a string item"),
            ("tags HAS 1.0", true, "HAS compares numbers numerically"),
            ("tags HAS 'b'", false, "HAS misses an absent item"),
            ("tags HAS null", false, "HAS with a null right side is false"),
            ("tags HAS tags", false, "HAS with an array right side is false"),
            ("text HAS 'desk'", false, "HAS on two scalars is false"),
            ("one IN tags", true, "IN finds a number"),
            ("'z' IN tags", false, "IN misses an absent item"),
            ("missing IN tags", false, "IN with a missing left side is false, even with a null item"),
            ("tags IN tags", false, "IN with an array left side is false"),
            ("'support' IN text", false, "IN on two scalars is false"),
            ("'z' NOT IN tags", true, "NOT IN holds for an absent item"),
            ("'a' NOT IN tags", false, "NOT IN fails for a present item"),
            ("missing NOT IN ['a']", false, "NOT IN with a missing left side is false"),
            ("nothing NOT IN ['a']", false, "NOT IN with a null left side is false"),
            ("'a' NOT IN missing", false, "NOT IN with a missing right side is false"),
            ("'a' NOT IN text", false, "NOT IN on two scalars is false"),
            ("'a' NOT IN empty", true, "nothing is in an empty array"),
            ("object HAS 'a'", false, "an object is not an array"),
            ("'a' IN object", false, "an object is not an array, on the right"),
        ];
        for (source, expected, message) in cases {
            assert_eq!(
                evaluate(source, &task, &Value::Null),
                expected,
                "{message}: `{source}`"
            );
        }
    }

    #[test]
    fn array_literals_work_on_either_side() {
        let task = json!({"skill": "sales"});
        #[rustfmt::skip]
        let cases = [
            ("['sales', 'support'] HAS skill", true, "literal array HAS a reference"),
            ("[] HAS skill", false, "an empty literal has nothing"),
            ("skill IN []", false, "nothing is in an empty literal"),
            ("skill NOT IN []", true, "everything is not in an empty literal"),
            ("2 IN [1, 2.0, 'x', true, null]", true, "mixed literal items"),
        ];
        for (source, expected, message) in cases {
            assert_eq!(
                evaluate(source, &task, &Value::Null),
                expected,
                "{message}: `{source}`"
            );
        }
    }

    #[test]
    fn and_binds_tighter_than_or() {
        #[rustfmt::skip]
        let cases = [
            // If OR bound tighter or evaluation ran left to right, this would be false.
            ("1 == 1 OR 1 == 2 AND 1 == 2", true, "true OR (false AND false)"),
            ("1 == 2 AND 1 == 1 OR 1 == 1", true, "(false AND true) OR true"),
            ("1 == 2 AND (1 == 1 OR 1 == 1)", false, "parentheses override"),
            ("(1 == 1 OR 1 == 2) AND 1 == 2", false, "parentheses override, other side"),
        ];
        for (source, expected, message) in cases {
            assert_eq!(
                evaluate(source, &Value::Null, &Value::Null),
                expected,
                "{message}: `{source}`"
            );
        }
    }

    /// Evaluates at an instant, with the given task attributes.
    fn evaluate_at(source: &str, task: &Value, instant: &str) -> bool {
        let now = TimeOfDay::utc(instant.parse().expect("an RFC 3339 instant"));
        parse(source).evaluate(&JsonScope {
            task,
            worker: &Value::Null,
            now: Some(now),
        })
    }

    #[test]
    fn twilios_time_of_day_examples_route_as_their_prose_says() {
        // https://www.twilio.com/docs/taskrouter/time-of-day-routing (docs/taskrouter.md §5),
        // verbatim: single `=`, upper-case 'THU', times with and without leading zeros.
        let worked = "(taskrouter.dayOfWeek IN ['Mon', 'Tue', 'THU'] AND taskrouter.currentTime > 800 AND taskrouter.currentTime < 1730) OR (taskrouter.dayOfWeek IN ['Wed', 'Fri'] AND taskrouter.currentTime > 900 AND taskrouter.currentTime < 1830) OR (taskrouter.dayOfWeek = 'Sat' AND taskrouter.currentTime > 1100 AND taskrouter.currentTime < 1530)";
        let hours = "taskrouter.currentHour > 8 AND taskrouter.currentHour < 18";
        let issue = "taskrouter.dayOfWeek IN ['Mon','Tue'] AND taskrouter.currentTime > 0800";
        // 2026-11-30 is a Monday.
        #[rustfmt::skip]
        let cases = [
            (worked, "2026-12-03T10:00:00Z", true, "Thursday ('THU') 10:00 is open"),
            (worked, "2026-12-03T17:30:00Z", false, "Thursday 17:30 is closed (< 1730)"),
            (worked, "2026-11-30T08:00:00Z", false, "Monday 08:00 is not after 800"),
            (worked, "2026-11-30T08:01:00Z", true, "Monday 08:01 is"),
            (worked, "2026-12-02T08:30:00Z", false, "Wednesday opens at 09:00"),
            (worked, "2026-12-02T09:30:00Z", true, "Wednesday 09:30"),
            (worked, "2026-12-04T18:29:00Z", true, "Friday 18:29"),
            (worked, "2026-12-05T12:00:00Z", true, "Saturday 12:00 (`= 'Sat'`)"),
            (worked, "2026-12-05T15:30:00Z", false, "Saturday 15:30 is closed"),
            (worked, "2026-12-06T12:00:00Z", false, "Sunday is closed"),
            (worked, "2026-12-03T05:00:00-05:00", true, "an instant with an offset is read in UTC: 10:00 UTC"),
            (hours, "2026-12-03T09:00:00Z", true, "09:00: hour 9 > 8"),
            (hours, "2026-12-03T08:59:00Z", false, "08:59: hour 8 is not > 8"),
            (hours, "2026-12-03T17:59:00Z", true, "17:59: hour 17 < 18"),
            (hours, "2026-12-03T18:00:00Z", false, "18:00: hour 18 is not < 18"),
            (issue, "2026-12-01T14:00:00Z", true, "the issue's Tuesday 14:00 UTC"),
            (issue, "2026-12-01T07:00:00Z", false, "Tuesday 07:00 UTC"),
            (issue, "2026-12-02T14:00:00Z", false, "Wednesday is not listed"),
        ];
        for (source, instant, expected, message) in cases {
            assert_eq!(
                evaluate_at(source, &json!({}), instant),
                expected,
                "{message}: `{source}`"
            );
        }
    }

    #[test]
    fn a_single_equals_sign_is_equality() {
        let task = json!({"language": "en", "level": 3, "vip": true});
        #[rustfmt::skip]
        let cases = [
            "language = 'en'", "level = 3", "vip = true", "missing = null",
            "language = 'fr' OR level = 3", "'en' = language",
        ];
        for source in cases {
            let double = source.replace(" = ", " == ");
            assert!(evaluate(source, &task, &Value::Null), "`{source}` holds");
            assert!(
                parse(source).same_condition(&parse(&double)),
                "`{source}` is `{double}`"
            );
        }
        assert!(!evaluate("language = 'fr'", &task, &Value::Null));
    }

    #[test]
    fn literals_compared_with_time_of_day_attributes_are_read_in_their_terms() {
        // 2026-12-03T09:05Z is a Thursday.
        let at = "2026-12-03T09:05:00Z";
        let task = json!({"open_days": ["Thu"], "shouting_days": ["THU"], "hour": "09", "taskrouter": {"dayOfWeek": "Sun"}});
        #[rustfmt::skip]
        let cases = [
            ("taskrouter.dayOfWeek == 'thu'", true, "a day literal in lower case"),
            ("taskrouter.dayOfWeek == 'THU'", true, "a day literal in upper case"),
            ("'tHu' = taskrouter.dayOfWeek", true, "the literal on the left"),
            ("taskrouter.dayOfWeek != 'THU'", false, "!= reads the day too"),
            ("taskrouter.dayOfWeek NOT IN ['sat', 'SUN']", true, "NOT IN reads every item"),
            ("['Mon', 'thu'] HAS taskrouter.dayOfWeek", true, "HAS with the array on the left"),
            ("taskrouter.dayOfWeek IN task.open_days", true, "attribute values compare exactly"),
            ("taskrouter.dayOfWeek IN task.shouting_days", false, "attribute values are not case-folded"),
            ("taskrouter.currentHour == '09'", true, "currentHour's documented string form"),
            ("taskrouter.currentHour == '9'", true, "a string of digits is its number"),
            ("taskrouter.currentHour == 9.0", true, "a float"),
            ("taskrouter.currentHour IN ['08', '09', 10]", true, "mixed items"),
            ("taskrouter.currentTime >= '0900'", true, "currentTime against a string of digits"),
            ("taskrouter.currentMin == '05'", true, "currentMin"),
            ("taskrouter.currentHour == task.hour", false, "an attribute's string is not read as a number"),
            ("taskrouter.dayOfWeek != null", true, "an attribute present at an instant"),
            ("task.taskrouter.dayOfWeek == 'Sun'", true, "a task attribute named taskrouter, through task."),
        ];
        for (source, expected, message) in cases {
            assert_eq!(
                evaluate_at(source, &task, at),
                expected,
                "{message}: `{source}`"
            );
        }
        assert!(
            evaluate(
                "taskrouter.currentTime == null AND taskrouter.dayOfWeek == null",
                &task,
                &Value::Null
            ),
            "without an instant the attributes are null, whatever the task holds"
        );
    }

    #[test]
    fn time_of_day_mistakes_are_syntax_errors_with_a_caret() {
        #[rustfmt::skip]
        let cases = [
            ("taskrouter.currenttime > 800", 1, "unknown time-of-day attribute `taskrouter.currenttime`", "did you mean `taskrouter.currentTime`? Names are case-sensitive", "wrong case"),
            ("taskrouter.hour > 8", 1, "unknown time-of-day attribute `taskrouter.hour`", "TaskRouter fills taskrouter. followed by one of currentTime, currentHour, currentMin, dayOfWeek", "an unknown name"),
            ("taskrouter.currentTme > 800", 1, "unknown time-of-day attribute `taskrouter.currentTme`", "did you mean `taskrouter.currentTime`? TaskRouter fills taskrouter. followed by one of currentTime, currentHour, currentMin, dayOfWeek", "a typo"),
            ("taskrouter.day_of_week == 'Mon'", 1, "unknown time-of-day attribute `taskrouter.day_of_week`", "did you mean `taskrouter.dayOfWeek`? TaskRouter fills taskrouter. followed by one of currentTime, currentHour, currentMin, dayOfWeek", "snake case"),
            ("taskrouter.currentMinute > 30", 1, "unknown time-of-day attribute `taskrouter.currentMinute`", "TaskRouter fills taskrouter. followed by one of currentTime, currentHour, currentMin, dayOfWeek", "too far from any name to guess"),
            ("a == 1 OR taskrouter == null", 11, "`taskrouter` is not a time-of-day attribute", "TaskRouter fills taskrouter. followed by one of currentTime, currentHour, currentMin, dayOfWeek", "the bare root"),
            ("taskrouter.dayOfWeek.name == 'x'", 1, "`taskrouter.dayOfWeek.name` is not a time-of-day attribute", "TaskRouter fills taskrouter. followed by one of currentTime, currentHour, currentMin, dayOfWeek", "a path below an attribute"),
            ("taskrouter.dayOfWeek == 'Thurs'", 25, "`'Thurs'` is not a day of the week", "`taskrouter.dayOfWeek` holds a day: did you mean 'Thu'? write Mon, Tue, Wed, Thu, Fri, Sat or Sun (in any case)", "a longer name"),
            ("taskrouter.dayOfWeek IN ['Mon', 'Funday']", 33, "`'Funday'` is not a day of the week", "`taskrouter.dayOfWeek` holds a day: write Mon, Tue, Wed, Thu, Fri, Sat or Sun (in any case)", "an array item that is no day"),
            ("taskrouter.dayOfWeek == 1", 25, "`1` is not a day of the week", "`taskrouter.dayOfWeek` holds a day: write Mon, Tue, Wed, Thu, Fri, Sat or Sun (in any case)", "a number for a day"),
            ("'Thursday' == taskrouter.dayOfWeek", 1, "`'Thursday'` is not a day of the week", "`taskrouter.dayOfWeek` holds a day: did you mean 'Thu'? write Mon, Tue, Wed, Thu, Fri, Sat or Sun (in any case)", "the full name, on the left"),
            ("taskrouter.dayOfWeek < 'Fri'", 22, "`<` does not apply to days of the week", "days have no order here: list them, e.g. `taskrouter.dayOfWeek IN ['Mon', 'Tue']`", "ordering days"),
            ("taskrouter.dayOfWeek CONTAINS 'u'", 22, "`CONTAINS` does not apply to days of the week", "days have no order here: list them, e.g. `taskrouter.dayOfWeek IN ['Mon', 'Tue']`", "a substring of a day"),
            ("taskrouter.currentHour > 'noon'", 26, "`'noon'` is not a number", "`taskrouter.currentHour` holds a number: compare it with one, e.g. `taskrouter.currentHour >= 8`", "a word for a number"),
            ("taskrouter.currentTime == '8:30'", 27, "`'8:30'` is not a number", "`taskrouter.currentTime` holds a number: compare it with one, e.g. `taskrouter.currentTime >= 8`", "a clock time for HHMM"),
            ("taskrouter.currentMin == true", 26, "`true` is not a number", "`taskrouter.currentMin` holds a number: compare it with one, e.g. `taskrouter.currentMin >= 8`", "a boolean for a number"),
            ("taskrouter.currentTime == '99999999999999999999'", 27, "`'99999999999999999999'` is not a number in range", "`taskrouter.currentTime` holds a number: compare it with one, e.g. `taskrouter.currentTime >= 8`", "digits beyond 64 bits"),
        ];
        for (source, column, message, help, why) in cases {
            let error = Expression::parse(source).expect_err(why);
            assert_eq!(
                (error.column(), error.message(), error.help()),
                (column, message, help),
                "{why}: `{source}`"
            );
        }
        let rendered = rendered_error("taskrouter.dayOfWeek = 'Thurs'");
        assert_eq!(
            rendered,
            [
                "`'Thurs'` is not a day of the week at column 24",
                "  taskrouter.dayOfWeek = 'Thurs'",
                "                         ^ `taskrouter.dayOfWeek` holds a day: did you mean 'Thu'? write Mon, Tue, Wed, Thu, Fri, Sat or Sun (in any case)",
            ]
            .join("\n")
        );
    }

    #[test]
    fn callers_can_name_more_known_references_and_their_literals_are_read_the_same_way() {
        let known = |reference: &Reference| match reference.as_str() {
            "office.day" => Some(Known::DayOfWeek),
            "office.hour" => Some(Known::Number),
            "office.open" => Some(Known::Boolean),
            _ => None,
        };
        let parse_known = |source: &str| Expression::parse_with(source, &known);
        let task = json!({"office": {"day": "Thu", "hour": 9, "open": true}});
        for source in [
            "office.day IN ['mon', 'THU']",
            "office.hour == '09'",
            "office.open == true",
            "other == 'thu' OR office.day = 'thu'",
        ] {
            let expression =
                parse_known(source).unwrap_or_else(|error| panic!("{source}: {error}"));
            assert!(
                expression.evaluate(&JsonScope {
                    task: &task,
                    worker: &Value::Null,
                    now: None
                }),
                "`{source}` holds"
            );
        }
        #[rustfmt::skip]
        let errors = [
            ("office.open == 'yes'", 16, "`'yes'` is not true or false", "a string for a boolean"),
            ("office.open > false", 13, "`>` does not apply to true or false", "ordering booleans"),
            ("office.day == 'Thurs'", 15, "`'Thurs'` is not a day of the week", "a misspelled day"),
        ];
        for (source, column, message, why) in errors {
            let error = parse_known(source).expect_err(why);
            assert_eq!(
                (error.column(), error.message()),
                (column, message),
                "{why}"
            );
        }
        assert!(
            Expression::parse("office.open == 'yes'").is_ok(),
            "unknown to plain parse: an ordinary task attribute"
        );
    }

    #[test]
    fn keywords_are_case_insensitive() {
        let task = json!({"language": "en", "skills": ["a"], "name": "anna", "flag": true});
        #[rustfmt::skip]
        let cases = [
            "language in ['en']",
            "language In ['en']",
            "language not in ['fr']",
            "language Not IN ['fr']",
            "skills has 'a' and name contains 'nn'",
            "skills Has 'b' oR name Contains 'ann'",
            "flag == TRUE AND missing == Null AND flag != False",
        ];
        for source in cases {
            assert!(
                evaluate(source, &task, &Value::Null),
                "`{source}` should hold"
            );
        }
    }

    #[test]
    fn strings_support_backslash_escapes_for_quotes_and_backslash() {
        let task = json!({"name": "O'Brien", "path": r"a\b", "quote": r#"say "hi""#});
        #[rustfmt::skip]
        let cases = [
            (r"name == 'O\'Brien'", "an escaped single quote"),
            (r#"name == "O'Brien""#, "the other quote needs no escape"),
            (r"path == 'a\\b'", "an escaped backslash"),
            (r#"quote == "say \"hi\"""#, "escaped double quotes"),
            (r#"quote == 'say "hi"'"#, "double quotes inside single quotes"),
        ];
        for (source, message) in cases {
            assert!(
                evaluate(source, &task, &Value::Null),
                "{message}: `{source}`"
            );
        }
    }

    #[test]
    fn numbers_compare_numerically_and_exactly() {
        let task = json!({"time": 830, "big": 9_007_199_254_740_993_i64, "score": 5.1});
        #[rustfmt::skip]
        let cases = [
            ("time > 0800 AND time < 1830", true, "leading zeros as in time-of-day routing"),
            ("-1 < 0", true, "negative integers"),
            ("-0.5 < 0", true, "negative floats"),
            ("1 == 1.0", true, "integer equals float"),
            ("2 > 1.5", true, "integer above float"),
            ("score >= 5.1", true, "float from JSON"),
            ("score > 5", true, "float above integer"),
            ("big == 9007199254740993", true, "big integers compare exactly"),
            ("big == 9007199254740992.0", false, "no rounding through f64"),
            ("big > 9007199254740992.0", true, "ordering above 2^53 is exact"),
            ("9223372036854775807 < 9223372036854775808.0", true, "i64::MAX is below 2^63"),
        ];
        for (source, expected, message) in cases {
            assert_eq!(
                evaluate(source, &task, &Value::Null),
                expected,
                "{message}: `{source}`"
            );
        }
    }

    #[test]
    fn syntax_errors_show_the_column_and_a_caret() {
        #[rustfmt::skip]
        let cases: [(&str, &[&str], &str); 15] = [
            (
                "skills HAS )",
                &[
                    "unexpected `)` at column 12",
                    "  skills HAS )",
                    "             ^ expected a value after HAS",
                ],
                "missing right operand",
            ),
            (
                "name == 'Gold",
                &[
                    "unclosed string at column 9",
                    "  name == 'Gold",
                    "          ^ close the string with '",
                ],
                "unclosed string",
            ),
            (
                "(a == 1 OR b == 2",
                &[
                    "unclosed `(` at column 1",
                    "  (a == 1 OR b == 2",
                    "  ^ add a matching )",
                ],
                "unclosed parenthesis",
            ),
            (
                "a == 1)",
                &[
                    "unexpected `)` at column 7",
                    "  a == 1)",
                    "        ^ there is no ( to close",
                ],
                "stray closing parenthesis",
            ),
            (
                "a ==",
                &[
                    "unexpected end of expression at column 5",
                    "  a ==",
                    "      ^ expected a value after ==",
                ],
                "missing operand at the end",
            ),
            (
                "== 1",
                &[
                    "unexpected `==` at column 1",
                    "  == 1",
                    "  ^ a condition starts with a value, a key or (",
                ],
                "missing left operand",
            ),
            (
                "skills LIKE 'x'",
                &[
                    "unknown operator `LIKE` at column 8",
                    "  skills LIKE 'x'",
                    "         ^ operators are ==, !=, <, <=, >, >=, CONTAINS, IN, NOT IN and HAS",
                ],
                "unknown word operator",
            ),
            (
                "a == 1 && b == 2",
                &[
                    "unknown operator `&&` at column 8",
                    "  a == 1 && b == 2",
                    "         ^ use AND to combine conditions",
                ],
                "C-style conjunction",
            ),
            (
                "a == 1 b == 2",
                &[
                    "unexpected `b` at column 8",
                    "  a == 1 b == 2",
                    "         ^ join conditions with AND or OR",
                ],
                "trailing tokens",
            ),
            (
                "skills[x] == 1",
                &[
                    "bad array index `x` at column 8",
                    "  skills[x] == 1",
                    "         ^ an index is a non-negative integer, e.g. skills[0]",
                ],
                "non-numeric index",
            ),
            (
                "customer-value == 'Gold'",
                &[
                    "hyphens are not allowed in keys at column 9",
                    "  customer-value == 'Gold'",
                    "          ^ TaskRouter keys hold letters, digits and underscores; rename the attribute",
                ],
                "hyphen in a key",
            ),
            (
                "",
                &[
                    "empty expression at column 1",
                    "  ",
                    "  ^ write a condition such as `1 == 1`",
                ],
                "empty expression",
            ),
            (
                "vip",
                &[
                    "`vip` is not a condition at column 1",
                    "  vip",
                    "  ^ compare it, e.g. `vip == true`; `1 == 1` matches everything",
                ],
                "bare reference",
            ),
            (
                "a NOT HAS 'x'",
                &[
                    "unexpected `HAS` at column 7",
                    "  a NOT HAS 'x'",
                    "        ^ NOT is only used as NOT IN",
                ],
                "NOT without IN",
            ),
            (
                "a IN ['x', b]",
                &[
                    "unexpected `b` at column 12",
                    "  a IN ['x', b]",
                    "             ^ array literals hold only strings, numbers, booleans and null",
                ],
                "reference inside an array literal",
            ),
        ];
        for (source, lines, message) in cases {
            assert_eq!(
                rendered_error(source),
                lines.join("\n"),
                "{message}: `{source}`"
            );
        }
    }

    #[test]
    fn other_syntax_errors_name_the_right_column() {
        #[rustfmt::skip]
        let cases = [
            ("name == 'a\\n'", 11, "unknown escape `\\n`", "unknown escape"),
            ("a[] == 1", 3, "missing array index", "empty index"),
            ("a[-1] == 1", 3, "bad array index `-1`", "negative index"),
            ("a[1 == 1", 2, "unclosed `[`", "unclosed index"),
            ("a. == 1", 3, "expected a key after `.`", "dangling dot"),
            ("a == 1.", 8, "expected digits after the decimal point", "dangling decimal point"),
            ("a == 1x", 7, "unexpected `x` after a number", "letters glued to a number"),
            ("a == - 1", 6, "unexpected `-`", "lone minus"),
            ("a == 99999999999999999999", 6, "number `99999999999999999999` is out of range", "integer overflow"),
            ("a == ['x'", 6, "unclosed `[`", "unclosed array literal"),
            ("a == ['x',]", 11, "unexpected `]`", "trailing comma"),
            ("a == [['x']]", 7, "unexpected `[`", "nested array literal"),
            ("a == @", 6, "unexpected character `@`", "stray character"),
            ("a <> 1", 3, "unknown operator `<>`", "SQL inequality"),
            ("a == 1 || b == 2", 8, "unknown operator `||`", "C-style disjunction"),
            ("a == (1)", 6, "unexpected `(`", "parenthesised operand"),
            ("true", 1, "`true` is not a condition", "bare literal"),
            ("'é' == x )", 10, "unexpected `)`", "columns count characters, not bytes"),
        ];
        for (source, column, text, message) in cases {
            let error = Expression::parse(source).expect_err(message);
            assert_eq!(
                (error.column(), error.message()),
                (column, text),
                "{message}: `{source}`"
            );
        }
    }

    #[test]
    fn line_breaks_in_the_source_do_not_misplace_the_caret() {
        let rendered = rendered_error("a == 1\nAND b ==");
        assert_eq!(
            rendered,
            [
                "unexpected end of expression at column 16",
                "  a == 1 AND b ==",
                "                 ^ expected a value after ==",
            ]
            .join("\n")
        );
    }

    #[test]
    fn nesting_is_limited_so_hostile_input_cannot_overflow_the_stack() {
        let nested = |depth: usize| format!("{}1 == 1{}", "(".repeat(depth), ")".repeat(depth));
        assert!(
            evaluate(&nested(MAX_NESTING), &Value::Null, &Value::Null),
            "the limit itself is allowed"
        );
        let error = Expression::parse(&nested(MAX_NESTING + 1)).expect_err("one level too deep");
        assert_eq!(
            error.column(),
            MAX_NESTING + 1,
            "points at the first paren past the limit"
        );
        assert_eq!(error.message(), "parentheses nest deeper than 32 levels");
        let hostile = Expression::parse(&"(".repeat(1_000_000)).expect_err("a million parens");
        assert_eq!(hostile.column(), MAX_NESTING + 1);
    }

    #[test]
    fn long_flat_chains_do_not_recurse() {
        let source = vec!["a == 1"; 100_000].join(" AND ");
        assert!(evaluate(&source, &json!({"a": 1}), &Value::Null));
    }

    #[test]
    fn references_are_listed_once_each_in_order() {
        let expression = parse("task.b == worker.a[1] OR x IN task.b OR worker.a[1] != null");
        let listed: Vec<&str> = expression.references().map(Reference::as_str).collect();
        assert_eq!(listed, ["task.b", "worker.a[1]", "x"]);
        assert_eq!(
            expression.source(),
            "task.b == worker.a[1] OR x IN task.b OR worker.a[1] != null"
        );
    }

    #[test]
    fn reference_parse_yields_segments_and_text() {
        let reference = Reference::parse(" task.skills[2].name ").expect("valid reference");
        assert_eq!(reference.as_str(), "task.skills[2].name");
        assert_eq!(
            reference.segments(),
            [
                Segment::Key("task".into()),
                Segment::Key("skills".into()),
                Segment::Index(2),
                Segment::Key("name".into()),
            ]
        );
        let keyword_after_dot = Reference::parse("task.in").expect("keywords are fine after a dot");
        assert_eq!(keyword_after_dot.segments()[1], Segment::Key("in".into()));
    }

    #[test]
    fn reference_parse_rejects_anything_but_one_reference() {
        #[rustfmt::skip]
        let cases = [
            ("", 1, "empty reference", "empty"),
            ("null", 1, "expected a reference, found `null`", "a keyword"),
            ("'text'", 1, "expected a reference, found `'text'`", "a literal"),
            ("worker.contact-uri", 15, "hyphens are not allowed in keys", "a hyphen"),
            ("worker.uri extra", 12, "unexpected `extra`", "trailing text"),
            ("a[x]", 3, "bad array index `x`", "a bad index"),
        ];
        for (text, column, expected, message) in cases {
            let error = Reference::parse(text).expect_err(message);
            assert_eq!(
                (error.column(), error.message()),
                (column, expected),
                "{message}: `{text}`"
            );
        }
    }

    #[test]
    fn json_scope_routes_by_first_segment() {
        let task = json!({"team": "task-team", "worker": "not used"});
        let worker = json!({"team": "worker-team"});
        let scope = JsonScope {
            task: &task,
            worker: &worker,
            now: None,
        };
        let resolve = |text: &str| scope.resolve(&Reference::parse(text).expect("valid reference"));
        assert_eq!(resolve("task.team"), Operand::String("task-team"));
        assert_eq!(resolve("worker.team"), Operand::String("worker-team"));
        assert_eq!(
            resolve("team"),
            Operand::String("task-team"),
            "unprefixed means task"
        );
        assert_eq!(resolve("task"), Operand::Object, "the whole task document");
    }

    #[test]
    fn an_expression_is_reusable_across_scopes() {
        let expression = parse("worker.level >= task.min_level");
        let task = json!({"min_level": 3});
        let junior = json!({"level": 2});
        let senior = json!({"level": 4});
        assert!(!expression.evaluate(&JsonScope {
            task: &task,
            worker: &junior,
            now: None,
        }));
        assert!(expression.evaluate(&JsonScope {
            task: &task,
            worker: &senior,
            now: None,
        }));
    }

    #[test]
    fn constant_proves_what_holds_whatever_the_attributes() {
        #[rustfmt::skip]
        let cases = [
            ("1 == 1", Some(true), "Twilio's match-everything idiom"),
            ("true == true", Some(true), "booleans"),
            ("'a' IN ['a', 'b']", Some(true), "a constant in a constant array"),
            ("1 == 2", Some(false), "different constants"),
            ("[1] HAS 2", Some(false), "a constant array without it"),
            ("vip == true OR 1 == 1", Some(true), "an OR with a constant true part"),
            ("vip == true AND 1 == 2", Some(false), "an AND with a constant false part"),
            ("1 == 1 AND 2 == 2", Some(true), "an AND of constant trues"),
            ("1 == 2 OR 2 == 3", Some(false), "an OR of constant falses"),
            ("agent != null OR agent == null", Some(true), "presence or absence"),
            ("null == agent OR agent != null", Some(true), "presence or absence, null written first"),
            ("agent != null AND agent == null", Some(false), "presence and absence"),
            ("vip == true", None, "depends on the task"),
            ("vip == true OR 1 == 2", None, "one part depends on the task"),
            ("vip == true AND 1 == 1", None, "the other part depends on the task"),
            ("a != null OR b == null", None, "presence of one, absence of another"),
            ("level > 0 OR level <= 0", None, "a tautology it does not try to prove (and a missing level fails it)"),
            ("taskrouter.currentHour >= 0", None, "time of day is not a constant"),
        ];
        for (source, expected, why) in cases {
            assert_eq!(parse(source).constant(), expected, "{why}: `{source}`");
        }
    }

    #[test]
    fn same_condition_ignores_spelling_but_not_meaning() {
        #[rustfmt::skip]
        let cases = [
            ("type==\"Support\"", "type == 'Support'", true, "spaces and quotes"),
            ("(type == 'a')", "type == 'a'", true, "redundant parentheses"),
            ("language in ['en']", "language IN [\"en\"]", true, "keyword case"),
            ("taskrouter.currentTime > 0800", "taskrouter.currentTime > 800", true, "leading zeros"),
            ("a == 1\n  AND b == 2", "a == 1 AND b == 2", true, "line breaks"),
            ("type == 'a'", "type == 'b'", false, "another value"),
            ("type == 'a'", "type != 'a'", false, "another operator"),
            ("a == 1 AND b == 2", "b == 2 AND a == 1", false, "order is kept"),
            ("a == 1", "b == 1", false, "another key"),
            ("a == 1 AND b == 2", "a == 1 OR b == 2", false, "AND is not OR"),
        ];
        for (a, b, expected, why) in cases {
            assert_eq!(
                parse(a).same_condition(&parse(b)),
                expected,
                "{why}: `{a}` vs `{b}`"
            );
        }
    }

    #[test]
    fn comparisons_lists_each_comparison_with_its_sides() {
        let expression = parse("(day IN ['Mon', 'Tue'] AND time > 800)\n OR 'x' == name");
        let comparisons = expression.comparisons();
        let texts: Vec<&str> = comparisons.iter().map(|c| c.text.as_str()).collect();
        assert_eq!(
            texts,
            ["day IN ['Mon', 'Tue']", "time > 800", "'x' == name"]
        );
        let operators: Vec<&str> = comparisons.iter().map(|c| c.operator).collect();
        assert_eq!(operators, ["IN", ">", "=="]);
        let day = Reference::parse("day").expect("valid");
        assert_eq!(comparisons[0].left, Side::Reference(&day));
        assert!(
            matches!(comparisons[0].right, Side::Array([Literal::String(a), Literal::String(b)]) if a == "Mon" && b == "Tue")
        );
        assert_eq!(
            comparisons[2].left,
            Side::Literal(&Literal::String("x".into()))
        );
    }

    #[test]
    fn explain_names_the_comparisons_that_decided_and_their_values() {
        let task =
            json!({"type": "chat", "level": 2, "skills": ["a", "b"], "customer": {"tier": 1}});
        #[rustfmt::skip]
        let cases: [(&str, bool, &[&str], &str); 7] = [
            ("type == 'chat' AND level >= 3 AND vip == true", false,
             &["`level >= 3` is false (level = 2)"], "a false AND: its first false part only"),
            ("type == 'voice' OR level > 5", false,
             &["`type == 'voice'` is false (type = \"chat\")", "`level > 5` is false (level = 2)"], "a false OR: every alternative"),
            ("level > 5 OR type == 'chat' OR vip == true", true,
             &["`type == 'chat'` is true (type = \"chat\")"], "a true OR: the first true alternative"),
            ("type == 'chat' AND skills HAS 'b'", true,
             &["`type == 'chat'` is true (type = \"chat\")", "`skills HAS 'b'` is true (skills = [\"a\",\"b\"])"], "a true AND: every part"),
            ("(type == 'voice' AND level > 1) OR (type == 'chat' AND level > 5)", false,
             &["`type == 'voice'` is false (type = \"chat\")", "`level > 5` is false (level = 2)"], "each failed alternative's failed part"),
            ("missing == level", false, &["`missing == level` is false (missing = null, level = 2)"], "a missing key reads null; both references listed"),
            ("customer != null AND 1 == 1", true, &["`customer != null` is true (customer = {…})", "`1 == 1` is true"], "objects and constants"),
        ];
        for (source, holds, expected, why) in cases {
            let explanation = parse(source).explain(&JsonScope {
                task: &task,
                worker: &Value::Null,
                now: None,
            });
            let shown: Vec<String> = explanation
                .comparisons
                .iter()
                .map(ToString::to_string)
                .collect();
            assert_eq!(
                (explanation.holds, shown.as_slice()),
                (
                    holds,
                    expected
                        .iter()
                        .map(|s| s.to_string())
                        .collect::<Vec<_>>()
                        .as_slice()
                ),
                "{why}: `{source}`"
            );
        }
    }

    #[test]
    fn a_reference_used_twice_in_one_comparison_is_shown_once() {
        let explanation = parse("level == level").explain(&JsonScope {
            task: &json!({"level": 1}),
            worker: &Value::Null,
            now: None,
        });
        assert_eq!(
            explanation.comparisons[0].values,
            [("level".to_owned(), "1".to_owned())]
        );
    }

    #[test]
    fn literals_display_as_expression_syntax_that_parses_back() {
        #[rustfmt::skip]
        let cases = [
            (Literal::Null, "null"),
            (Literal::Bool(false), "false"),
            (Literal::Integer(-42), "-42"),
            (Literal::Float(5.1), "5.1"),
            (Literal::Float(2.0), "2.0"),
            (Literal::Float(1e20), "100000000000000000000.0"),
            (Literal::String("it's a \\ path".into()), "'it\\'s a \\\\ path'"),
        ];
        for (literal, text) in cases {
            assert_eq!(literal.to_string(), text);
            let reparsed = parse(&format!("x == {text}"));
            assert_eq!(
                reparsed.comparisons()[0].right,
                Side::Literal(&literal),
                "{text} parses back"
            );
        }
    }

    // Strategies for the properties below.

    fn quoted(text: &str) -> String {
        format!("'{}'", text.replace('\\', r"\\").replace('\'', r"\'"))
    }

    /// Non-null scalar literals as source text.
    fn scalar_source() -> impl Strategy<Value = String> {
        prop_oneof![
            any::<bool>().prop_map(|b| b.to_string()),
            any::<i64>().prop_map(|i| i.to_string()),
            (-1.0e6..1.0e6_f64).prop_map(|f| format!("{f:.3}")),
            r#"[ab'"\\ é]{0,4}"#.prop_map(|s| quoted(&s)),
        ]
    }

    fn literal_source() -> impl Strategy<Value = String> {
        prop_oneof![1 => Just("null".to_owned()), 6 => scalar_source()]
    }

    fn reference_source() -> impl Strategy<Value = String> {
        prop::sample::select(vec![
            "a",
            "b",
            "c",
            "a.b",
            "a[0]",
            "b[1].c",
            "task.a",
            "worker.b",
            "worker.a[0]",
            "missing",
        ])
        .prop_map(str::to_owned)
    }

    fn array_source() -> impl Strategy<Value = String> {
        prop::collection::vec(literal_source(), 0..4)
            .prop_map(|items| format!("[{}]", items.join(", ")))
    }

    fn term_source() -> impl Strategy<Value = String> {
        prop_oneof![literal_source(), reference_source(), array_source()]
    }

    fn comparison_source() -> impl Strategy<Value = String> {
        let operators = vec![
            "==", "!=", "<", "<=", ">", ">=", "CONTAINS", "IN", "NOT IN", "HAS", "in", "not in",
            "has",
        ];
        (
            term_source(),
            prop::sample::select(operators),
            term_source(),
        )
            .prop_map(|(left, operator, right)| format!("{left} {operator} {right}"))
    }

    fn condition_source() -> impl Strategy<Value = String> {
        comparison_source().prop_recursive(4, 24, 2, |inner| {
            prop_oneof![
                (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("{a} AND {b}")),
                (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("{a} OR {b}")),
                inner.prop_map(|c| format!("({c})")),
            ]
        })
    }

    /// Attribute documents whose keys overlap with [`reference_source`].
    fn document() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            (-1.0e6..1.0e6_f64).prop_map(Value::from),
            "[ab é]{0,3}".prop_map(Value::from),
        ];
        let node = leaf.prop_recursive(3, 24, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
                prop::collection::btree_map("[abc]", inner, 0..3)
                    .prop_map(|map| Value::Object(map.into_iter().collect())),
            ]
        });
        prop::collection::btree_map("[abc]", node, 0..4)
            .prop_map(|map| Value::Object(map.into_iter().collect()))
    }

    const TOKENS: &[&str] = &[
        "(", ")", "[", "]", ",", "==", "!=", "<", "<=", ">", ">=", "=", "!", "AND", "or", "NOT",
        "in", "HAS", "contains", "true", "null", "1", "-2.5", "'x'", "\"y", "a", "a.b", "a[0]",
        "a[", "-", ".", "\\", "é", " ",
    ];

    proptest! {
        #[test]
        fn parsing_arbitrary_text_never_panics(text in ".*") {
            let _ = Expression::parse(&text);
            let _ = Reference::parse(&text);
        }

        #[test]
        fn parsing_token_soup_never_panics_and_errors_point_inside_or_just_past_the_text(
            tokens in prop::collection::vec(prop::sample::select(TOKENS), 0..24),
        ) {
            let text = tokens.concat();
            if let Err(error) = Expression::parse(&text) {
                prop_assert!(error.column() >= 1 && error.column() <= text.chars().count() + 1);
                let _ = error.to_string();
            }
        }

        #[test]
        fn generated_expressions_parse_and_evaluate_against_arbitrary_json(
            source in condition_source(), task in document(), worker in document(),
        ) {
            let expression = Expression::parse(&source).map_err(|e| TestCaseError::fail(e.to_string()))?;
            let _ = expression.evaluate(&JsonScope { task: &task, worker: &worker, now: None });
        }

        #[test]
        fn explain_agrees_with_evaluate(
            source in condition_source(), task in document(), worker in document(),
        ) {
            let expression = Expression::parse(&source).map_err(|e| TestCaseError::fail(e.to_string()))?;
            let scope = JsonScope { task: &task, worker: &worker, now: None };
            let explanation = expression.explain(&scope);
            prop_assert_eq!(explanation.holds, expression.evaluate(&scope));
            prop_assert!(!explanation.comparisons.is_empty(), "something decided `{}`", source);
            for comparison in &explanation.comparisons {
                let alone = parse(&comparison.text).evaluate(&scope);
                prop_assert_eq!(alone, comparison.holds, "`{}` evaluated alone", comparison.text);
            }
        }

        #[test]
        fn the_canonical_text_is_the_same_condition_and_a_fixed_point(source in condition_source()) {
            let expression = Expression::parse(&source).map_err(|e| TestCaseError::fail(e.to_string()))?;
            let canonical = expression.canonical();
            let reparsed = Expression::parse(&canonical).map_err(|e| TestCaseError::fail(format!("{canonical}: {e}")))?;
            prop_assert!(reparsed.same_condition(&expression), "`{}` → `{}`", source, canonical);
            prop_assert_eq!(reparsed.canonical(), canonical);
        }

        #[test]
        fn a_constant_result_is_the_result_for_any_attributes(
            source in condition_source(), task in document(), worker in document(),
        ) {
            let expression = Expression::parse(&source).map_err(|e| TestCaseError::fail(e.to_string()))?;
            if let Some(constant) = expression.constant() {
                prop_assert_eq!(expression.evaluate(&JsonScope { task: &task, worker: &worker, now: None }), constant);
            }
        }

        #[test]
        fn an_expression_is_the_same_condition_as_itself_respaced(source in condition_source()) {
            let expression = Expression::parse(&source).map_err(|e| TestCaseError::fail(e.to_string()))?;
            let respaced = Expression::parse(&format!("  ( {source} )  ")).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert!(expression.same_condition(&respaced));
        }

        #[test]
        fn or_and_and_are_commutative(
            a in condition_source(), b in condition_source(), task in document(),
        ) {
            let eval = |source: String| evaluate(&source, &task, &Value::Null);
            prop_assert_eq!(eval(format!("({a}) OR ({b})")), eval(format!("({b}) OR ({a})")));
            prop_assert_eq!(eval(format!("({a}) AND ({b})")), eval(format!("({b}) AND ({a})")));
        }

        #[test]
        fn and_binds_tighter_than_or_for_any_conditions(
            a in condition_source(), b in condition_source(), c in condition_source(), task in document(),
        ) {
            let eval = |source: String| evaluate(&source, &task, &Value::Null);
            let expected = eval(format!("({a})")) || (eval(format!("({b})")) && eval(format!("({c})")));
            prop_assert_eq!(eval(format!("({a}) OR ({b}) AND ({c})")), expected);
        }

        #[test]
        fn a_scalar_is_in_an_array_of_itself(x in scalar_source()) {
            let eval = |source: String| evaluate(&source, &Value::Null, &Value::Null);
            #[rustfmt::skip]
            let cases = [
                (format!("{x} IN [{x}]"), true),
                (format!("[{x}] HAS {x}"), true),
                (format!("{x} == {x}"), true),
                (format!("{x} NOT IN [{x}]"), false),
                (format!("{x} != {x}"), false),
            ];
            for (source, expected) in cases {
                prop_assert_eq!(eval(source.clone()), expected, "`{}`", source);
            }
        }

        #[test]
        fn in_and_not_in_split_present_scalars_and_reject_everything_else(
            reference in reference_source(), array in array_source(), task in document(), worker in document(),
        ) {
            let scope = JsonScope { task: &task, worker: &worker, now: None };
            let is_in = parse(&format!("{reference} IN {array}")).evaluate(&scope);
            let is_not_in = parse(&format!("{reference} NOT IN {array}")).evaluate(&scope);
            let value = scope.resolve(&Reference::parse(&reference).expect("valid reference"));
            if value.is_scalar() {
                prop_assert!(is_in != is_not_in, "exactly one holds for {value:?}");
            } else {
                prop_assert!(!is_in && !is_not_in, "neither holds for {value:?}");
            }
        }

        #[test]
        fn not_equal_null_is_exactly_presence(
            reference in reference_source(), task in document(), worker in document(),
        ) {
            let scope = JsonScope { task: &task, worker: &worker, now: None };
            let present = parse(&format!("{reference} != null")).evaluate(&scope);
            let absent = parse(&format!("{reference} == null")).evaluate(&scope);
            let value = scope.resolve(&Reference::parse(&reference).expect("valid reference"));
            prop_assert_eq!(present, !value.is_null());
            prop_assert_eq!(absent, value.is_null());
        }
    }
}
