//! Log output: JSON lines in Lambda, readable text locally.
//!
//! Lambda's advanced logging controls tell a custom runtime what they want through
//! `AWS_LAMBDA_LOG_FORMAT` (`JSON` or `Text`) and `AWS_LAMBDA_LOG_LEVEL`
//! (<https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs-advanced.html>).
//! `RUST_LOG`, when set, overrides the level with full `tracing` filter directives (e.g.
//! `taskrouter_lambda=debug` to see why a signature was refused).

use tracing_subscriber::EnvFilter;

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// One JSON object per line, for CloudWatch Logs Insights.
    Json,
    /// Human-readable lines for a terminal.
    Text,
}

/// The logging settings derived from the environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogSettings {
    /// Line format.
    pub format: LogFormat,
    /// A `tracing` filter directive string.
    pub filter: String,
}

impl LogSettings {
    /// Derives the settings from the three variables (each `None` when unset).
    ///
    /// Lambda's level names (`TRACE`, `DEBUG`, `INFO`, `WARN`, `ERROR`, `FATAL`) map to `tracing`
    /// levels; `FATAL` has no equivalent and becomes `error`. Anything unrecognised falls back to
    /// `info` rather than silencing the logs.
    pub fn from_vars(format: Option<&str>, level: Option<&str>, rust_log: Option<&str>) -> Self {
        let format = match format {
            Some(value) if value.eq_ignore_ascii_case("json") => LogFormat::Json,
            _ => LogFormat::Text,
        };
        let filter = match (rust_log.filter(|value| !value.trim().is_empty()), level) {
            (Some(directives), _) => directives.trim().to_owned(),
            (None, Some(level)) => match level.trim().to_ascii_lowercase().as_str() {
                level @ ("trace" | "debug" | "info" | "warn" | "error") => level.to_owned(),
                "fatal" => "error".to_owned(),
                _ => "info".to_owned(),
            },
            (None, None) => "info".to_owned(),
        };
        Self { format, filter }
    }

    /// Reads the settings from the process environment.
    pub fn from_env() -> Self {
        let var = |name| std::env::var(name).ok();
        Self::from_vars(
            var("AWS_LAMBDA_LOG_FORMAT").as_deref(),
            var("AWS_LAMBDA_LOG_LEVEL").as_deref(),
            var("RUST_LOG").as_deref(),
        )
    }

    /// Installs the global subscriber. Call once, first thing in `main`.
    pub fn install(&self) {
        let filter = EnvFilter::try_new(&self.filter).unwrap_or_else(|_| EnvFilter::new("info"));
        let builder = tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_target(false);
        // `try_init` so a second call (tests) is harmless instead of a panic.
        let _ = match self.format {
            // CloudWatch stamps every line; the runtime's span carries the request id.
            LogFormat::Json => builder
                .json()
                .flatten_event(true)
                .with_current_span(true)
                .with_span_list(false)
                .with_ansi(false)
                .try_init(),
            LogFormat::Text => builder.compact().try_init(),
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lambda_and_rust_log_variables_choose_format_and_level() {
        let cases = [
            (
                (None, None, None),
                LogFormat::Text,
                "info",
                "nothing set: readable, info",
            ),
            (
                (Some("JSON"), None, None),
                LogFormat::Json,
                "info",
                "Lambda JSON format",
            ),
            (
                (Some("json"), Some("DEBUG"), None),
                LogFormat::Json,
                "debug",
                "Lambda level",
            ),
            (
                (Some("Text"), Some("FATAL"), None),
                LogFormat::Text,
                "error",
                "FATAL has no tracing level",
            ),
            (
                (None, Some("loud"), None),
                LogFormat::Text,
                "info",
                "unknown level falls back to info",
            ),
            (
                (None, Some("WARN"), Some("taskrouter_lambda=debug")),
                LogFormat::Text,
                "taskrouter_lambda=debug",
                "RUST_LOG wins over the Lambda level",
            ),
            (
                (None, Some("WARN"), Some("  ")),
                LogFormat::Text,
                "warn",
                "a blank RUST_LOG is unset",
            ),
        ];
        for ((format, level, rust_log), want_format, want_filter, why) in cases {
            let settings = LogSettings::from_vars(format, level, rust_log);
            assert_eq!(settings.format, want_format, "{why}");
            assert_eq!(settings.filter, want_filter, "{why}");
        }
    }
}
