//! Log lines on stderr: `INFO [my-mod] message` for what a mod logs, `INFO message` for the
//! host; or one JSON object a line with `--log-format json`.

use std::fmt::{self, Write as _};

use anstyle::{AnsiColor, Style};
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;

/// The text format.
pub struct ModLines;

#[derive(Default)]
struct Fields {
    message: String,
    mod_id: Option<String>,
    others: String,
}

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        match field.name() {
            "message" => self.message.push_str(value),
            "mod_id" => self.mod_id = Some(value.to_owned()),
            name => {
                let _ = write!(self.others, " {name}={value}");
            }
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        match field.name() {
            "message" => {
                let _ = write!(self.message, "{value:?}");
            }
            "mod_id" => self.mod_id = Some(format!("{value:?}")),
            name => {
                let _ = write!(self.others, " {name}={value:?}");
            }
        }
    }
}

impl<S, N> FormatEvent<S, N> for ModLines
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        _context: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let level = *event.metadata().level();
        let color = match level {
            Level::ERROR => AnsiColor::Red,
            Level::WARN => AnsiColor::Yellow,
            Level::INFO => AnsiColor::Green,
            Level::DEBUG => AnsiColor::Blue,
            Level::TRACE => AnsiColor::Magenta,
        };
        let (style, dim) = if writer.has_ansi_escapes() {
            (color.on_default().bold(), Style::new().dimmed())
        } else {
            (Style::new(), Style::new())
        };
        let mut fields = Fields::default();
        event.record(&mut fields);
        write!(writer, "{style}{level:>5}{style:#} ")?;
        if let Some(id) = &fields.mod_id {
            write!(writer, "{dim}[{id}]{dim:#} ")?;
        }
        writeln!(writer, "{}{dim}{}{dim:#}", fields.message, fields.others)
    }
}
