//! What the JSON documents this crate reads have in common: rules documents and their
//! schedules, instructions, Workflow configurations, workers and queues, rule tests, and the
//! callbacks' attribute parameters. Their errors name the JSON type found ([`json_kind`]), the
//! keys an object does not define (`unknown_keys`) and, for a likely typo, the known name
//! closest to it (`suggest`).

use serde_json::{Map, Value};

/// The kind of a JSON value with its article (`a string`, `an array`, `null`), for messages
/// that must name what was found without echoing it (attributes hold customer data).
pub fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// The keys of `map` that are not in `allowed`, in document order.
pub(crate) fn unknown_keys<'m>(
    map: &'m Map<String, Value>,
    allowed: &[&str],
) -> impl Iterator<Item = &'m String> {
    map.keys().filter(|key| !allowed.contains(&key.as_str()))
}

/// The candidate closest to `input`, if close enough to be a likely typo. Case, `_` and `-` are
/// ignored, so `PostWorkActivitySid` (the REST spelling) and `onenter` find their match.
pub(crate) fn suggest(
    input: &str,
    candidates: impl IntoIterator<Item = &'static str>,
) -> Option<&'static str> {
    let input = fold(input);
    candidates
        .into_iter()
        .map(|candidate| {
            let folded = fold(candidate);
            let distance = edit_distance(&input, &folded);
            (
                distance,
                distance <= (folded.chars().count() / 4).max(1),
                candidate,
            )
        })
        .filter(|&(_, close, _)| close)
        .min_by_key(|&(distance, _, _)| distance)
        .map(|(_, _, candidate)| candidate)
}

fn fold(text: &str) -> String {
    text.chars()
        .filter(|c| !matches!(c, '_' | '-'))
        .flat_map(char::to_lowercase)
        .collect()
}

/// Edit distance counting a swap of two neighbours as one edit (optimal string alignment), so
/// `form` is one edit from `from`. Twenty lines here rather than a dependency (`strsim`'s
/// `osa_distance` is the same measure) for the error path of a few messages.
pub(crate) fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut before_previous = vec![0; b.len() + 1];
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    let mut current = vec![0; b.len() + 1];
    for (i, &a_char) in a.iter().enumerate() {
        current[0] = i + 1;
        for (j, &b_char) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(a_char != b_char);
            let mut best = substitution.min(previous[j + 1] + 1).min(current[j] + 1);
            if i > 0 && j > 0 && a_char == b[j - 1] && a[i - 1] == b_char {
                best = best.min(before_previous[j - 1] + 1);
            }
            current[j + 1] = best;
        }
        std::mem::swap(&mut before_previous, &mut previous);
        std::mem::swap(&mut previous, &mut current);
    }
    previous[b.len()]
}
