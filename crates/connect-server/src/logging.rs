//! The root logger: bunyan JSON or terminal text, at a level, to stderr.

use slog::Drain;

/// Output format of the logs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Json,
    Terminal,
}

pub fn root_logger(format: LogFormat, level: slog::Level) -> slog::Logger {
    let drain = match format {
        LogFormat::Json => {
            let drain = slog_bunyan::with_name("connect-server", std::io::stderr())
                .build()
                .fuse();
            slog_async::Async::new(drain).build().fuse()
        }
        LogFormat::Terminal => {
            let decorator = slog_term::TermDecorator::new().stderr().build();
            let drain = slog_term::FullFormat::new(decorator).build().fuse();
            slog_async::Async::new(drain).build().fuse()
        }
    };
    slog::Logger::root(drain.filter_level(level).fuse(), slog::o!())
}

/// A logger that drops everything, for tests.
pub fn discard() -> slog::Logger {
    slog::Logger::root(slog::Discard, slog::o!())
}
