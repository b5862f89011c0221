//! The command line: clap's typed arguments, turned into validated settings, then the
//! pipeline. `run` is the main job; `serve` starts the reference gateway; `explain` prints the
//! catalog; `schemas extract` regenerates `schemas/openai/` from the OpenAPI spec.

use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::{Parser, Subcommand, ValueEnum};

use crate::catalog::{self, Severity};
use crate::check::Judging;
use crate::check::stream::StreamLimits;
use crate::config::{self, Flags, Secret, Target};
use crate::diag::did_you_mean;
use crate::exit;
use crate::gateway::{Gateway, GatewayOptions};
use crate::plan;
use crate::report::html::HtmlReporter;
use crate::report::{Redacting, json::JsonLines, matrix::MatrixReporter, terminal::Terminal};
use crate::run::{self, FanOut, Reporter, RunOptions};
use crate::schema;
use crate::suite;
use crate::transport::{Limits, Transport};

#[derive(Debug, Parser)]
#[command(
    name = "gatecheck",
    version,
    about = "Conformance and compatibility harness for OpenAI-compatible Chat Completions APIs"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run suites against targets (default: the shipped suites against the embedded reference gateway).
    Run(Box<RunArgs>),
    /// Judge recorded exchanges (`run --record DIR`) again, offline: no request is sent.
    Check(Box<CheckArgs>),
    /// Serve the reference gateway on 127.0.0.1 until interrupted.
    Serve(ServeArgs),
    /// Explain a check: what it demands, how bad a deviation is, and where the rule comes from.
    Explain(ExplainArgs),
    /// List the gateway profiles, or show what one documents.
    Profiles(ProfilesArgs),
    /// Accept or reject pending snapshots (the .snap.new files a run wrote).
    #[command(subcommand)]
    Snapshots(SnapshotsCommand),
    /// Maintain the OpenAI schemas in schemas/openai/.
    #[command(subcommand)]
    Schemas(SchemasCommand),
}

#[derive(Debug, Subcommand)]
pub enum SnapshotsCommand {
    /// Move every .snap.new under PATH (a folder or one file) over its .snap.
    Accept {
        #[arg(default_value = DEFAULT_SNAPSHOTS)]
        path: PathBuf,
    },
    /// Delete every .snap.new under PATH (a folder or one file).
    Reject {
        #[arg(default_value = DEFAULT_SNAPSHOTS)]
        path: PathBuf,
    },
}

#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// Suite files or folders (default: the shipped suites).
    pub paths: Vec<PathBuf>,
    /// A target as NAME=URL or NAME=URL@profile (repeatable). Overrides config file targets.
    #[arg(long = "target", value_name = "NAME=URL")]
    pub targets: Vec<String>,
    /// Model id to test (repeatable). Overrides the targets' `models`.
    #[arg(long = "model", value_name = "ID")]
    pub models: Vec<String>,
    /// Config file [default: ./gatecheck.yaml when present] [env: GATECHECK_CONFIG].
    #[arg(long, value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// Requests in flight at once [default: 8] [env: GATECHECK_JOBS].
    #[arg(long, short = 'j', value_name = "N")]
    pub jobs: Option<usize>,
    /// Deadline for one whole exchange, e.g. 30s [default: 120s] [env: GATECHECK_TIMEOUT].
    #[arg(long, value_name = "DURATION", value_parser = parse_duration_arg)]
    pub timeout: Option<Duration>,
    /// Deadline for connecting [default: 10s].
    #[arg(long, value_name = "DURATION", value_parser = parse_duration_arg)]
    pub connect_timeout: Option<Duration>,
    /// Largest response body read (and kept, for streams), in bytes [default: 16777216].
    #[arg(long, value_name = "BYTES")]
    pub max_body: Option<usize>,
    /// Streams: longest wait for a byte or a complete event, e.g. 10s [default: 30s].
    #[arg(long, value_name = "DURATION", value_parser = parse_duration_arg)]
    pub max_gap: Option<Duration>,
    /// Streams: most bytes read [default: 268435456].
    #[arg(long, value_name = "BYTES")]
    pub max_stream_bytes: Option<u64>,
    /// Streams: most events read [default: 1000000].
    #[arg(long, value_name = "N")]
    pub max_events: Option<usize>,
    /// Requests per second to each target that sets no `rate_limit` of its own [default: no limit].
    #[arg(long, value_name = "N")]
    pub rate_limit: Option<f64>,
    #[command(flatten)]
    pub report: ReportArgs,
    /// The least severity that fails a case.
    #[arg(long, value_enum, default_value_t = FailOn::Violation)]
    pub fail_on: FailOn,
    /// A profile file of your own (YAML, see schemas/profile.schema.json), usable by its
    /// `profile:` name in `--target NAME=URL@PROFILE` (repeatable).
    #[arg(long, value_name = "PATH")]
    pub profile_file: Vec<PathBuf>,
    /// Do not ask the targets' `GET /models` which models they list (by default a case whose
    /// model is not listed, or lacks a capability by the list's metadata, is skipped).
    #[arg(long)]
    pub no_discover: bool,
    /// Judge every target under the strict `openai` profile: what a target's profile documents
    /// is reported at full severity (its capabilities still decide which cases run).
    #[arg(long)]
    pub strict: bool,
    /// List the planned cases (libtest format) and exit.
    #[arg(long)]
    pub list: bool,
    /// Record every exchange (raw bytes with their arrival times) under DIR, one file per case
    /// and target, for `gatecheck check DIR` and `gatecheck serve --replay DIR`.
    #[arg(long, value_name = "DIR")]
    pub record: Option<PathBuf>,
    /// libtest arguments after `--`: FILTER, --exact, --skip PATTERN, --list.
    #[arg(last = true, value_name = "LIBTEST ARGS")]
    pub libtest: Vec<String>,
}

#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// A folder written by `gatecheck run --record DIR`.
    pub dir: PathBuf,
    /// Suite files or folders (default: the shipped suites the recording ran).
    pub paths: Vec<PathBuf>,
    /// Judge every target under this profile instead of the one it was recorded with.
    #[arg(long, value_name = "NAME")]
    pub profile: Option<String>,
    /// Judge every target under the strict `openai` profile (as `run --strict`).
    #[arg(long)]
    pub strict: bool,
    /// The least severity that fails a case.
    #[arg(long, value_enum, default_value_t = FailOn::Violation)]
    pub fail_on: FailOn,
    /// A profile file of your own (as in `run`), for recordings made with it or `--profile`.
    #[arg(long, value_name = "PATH")]
    pub profile_file: Vec<PathBuf>,
    /// Streams: longest wait for a complete event, e.g. 10s [default: what the recorded run
    /// used].
    #[arg(long, value_name = "DURATION", value_parser = parse_duration_arg)]
    pub max_gap: Option<Duration>,
    /// Streams: most events read [default: what the recorded run used].
    #[arg(long, value_name = "N")]
    pub max_events: Option<usize>,
    #[command(flatten)]
    pub report: ReportArgs,
    /// libtest arguments after `--`: FILTER, --exact, --skip PATTERN, --list.
    #[arg(last = true, value_name = "LIBTEST ARGS")]
    pub libtest: Vec<String>,
}

/// What a run writes, and where: shared by `run` and every command that judges.
#[derive(Debug, clap::Args)]
pub struct ReportArgs {
    /// Write the checks x targets matrix as Markdown to PATH [default: reports/matrix.md when
    /// there are two or more targets].
    #[arg(long, value_name = "PATH")]
    pub matrix: Option<PathBuf>,
    /// Write, as Markdown, how the targets' answers differ in shape case by case (fields one has
    /// and another lacks, types that differ, event sequences) to PATH [default:
    /// reports/compare.md when there are two or more targets].
    #[arg(long, value_name = "PATH")]
    pub compare: Option<PathBuf>,
    /// Write the self-contained HTML report to PATH: the checks x targets matrix (a click on a
    /// cell opens its cases), time to first token and gaps per target, and every case with its
    /// request, response or event timeline, findings explained, and how the other targets'
    /// answers differ. One file, no external asset: it opens from file:// without network.
    #[arg(long, value_name = "PATH", default_value = DEFAULT_HTML_PATH)]
    pub html: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// Also list `variant` findings (deviations the target's profile documents); by default they
    /// are counted and shown in the matrix.
    #[arg(long, short)]
    pub verbose: bool,
    /// Colour: auto, always or never.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
    /// Where each case's snapshot is written and compared [default: reports/snapshots; with
    /// --baseline, the baseline folder].
    #[arg(long, value_name = "DIR")]
    pub snapshots: Option<PathBuf>,
    /// How snapshots are written: `no`, `new` (a changed or new one as .snap.new beside the old),
    /// `always` (over the old one), `auto` (`no` on CI, `new` elsewhere) [default: auto]
    /// [env: GATECHECK_UPDATE].
    #[arg(long, value_name = "MODE")]
    pub update: Option<String>,
    /// What becomes of snapshots that no case wrote (a case renamed or removed), after a run of
    /// every planned case: `ignore`, `warn` (listed), `delete`, `reject` (listed; the run fails).
    /// Only the folders of the targets run and the files of the suites run are looked at.
    #[arg(long, value_enum, value_name = "MODE", default_value_t = crate::report::snapshot::Unreferenced::Warn)]
    pub unreferenced: crate::report::snapshot::Unreferenced,
    /// Hold the run to the snapshots accepted in DIR: it fails only on a new or worse failing
    /// finding or a changed shape, not on what the baseline already holds.
    #[arg(long, value_name = "DIR")]
    pub baseline: Option<PathBuf>,
    /// Deviations accepted until a date, per target (YAML) [default: DIR/waivers.yaml with
    /// --baseline DIR, when it exists].
    #[arg(long, value_name = "PATH")]
    pub waivers: Option<PathBuf>,
    /// Write JUnit XML to PATH (a testsuite per target, a testcase per case).
    #[arg(long, value_name = "PATH")]
    pub junit: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Human,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    Violation,
    Warning,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Port on 127.0.0.1 (0 picks a free one).
    #[arg(long, default_value_t = 8089)]
    pub port: u16,
    /// Environment variable holding the key clients must send [default key: sk-gatecheck].
    #[arg(long, value_name = "VAR")]
    pub api_key_env: Option<String>,
    /// Pause between streamed events, in milliseconds.
    #[arg(long, default_value_t = 0)]
    pub chunk_delay_ms: u64,
    /// Misbehave on every request (a fault name, as in the `x-gatecheck-fault` header).
    #[arg(long, value_name = "NAME")]
    pub fault: Option<String>,
    /// Speak one gateway's dialect at its own base path: openai, router-by-mp, ml-router,
    /// rout-my, meingpt, apigo [default: every one at once, each under /NAME; openai also at /v1].
    #[arg(long, value_name = "NAME")]
    pub profile: Option<String>,
    /// Serve the exchanges recorded in DIR (`run --record DIR`) with their original timing,
    /// instead of the reference gateway.
    #[arg(long, value_name = "DIR", conflicts_with_all = ["api_key_env", "chunk_delay_ms", "fault", "profile"])]
    pub replay: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct ExplainArgs {
    /// A check id such as `resp.envelope`.
    pub id: Option<String>,
    /// List every check.
    #[arg(long)]
    pub list: bool,
}

#[derive(Debug, clap::Args)]
pub struct ProfilesArgs {
    /// A profile name such as `ml-router`.
    pub name: Option<String>,
    /// A profile file of your own, to check it and show it (repeatable).
    #[arg(long, value_name = "PATH")]
    pub profile_file: Vec<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum SchemasCommand {
    /// Extract the schemas from the OpenAPI spec into schemas/openai/.
    Extract {
        /// The OpenAPI document (JSON).
        #[arg(long, default_value = "../shared/openai-openapi/openapi.json")]
        spec: PathBuf,
        /// Where to write.
        #[arg(long, default_value = "schemas/openai")]
        out: PathBuf,
        /// Compare instead of writing; exit 1 when they differ.
        #[arg(long)]
        check: bool,
    },
}

/// Where the matrix goes when a run has several targets and `--matrix` names no file.
const DEFAULT_MATRIX_PATH: &str = "reports/matrix.md";
/// Where the answers compared across targets go when a run has several and `--compare` names
/// no file.
const DEFAULT_COMPARE_PATH: &str = "reports/compare.md";
/// Where snapshots go when neither `--snapshots` nor `--baseline` names a folder.
const DEFAULT_SNAPSHOTS: &str = "reports/snapshots";
/// Where every run writes its HTML report unless `--html` names another file.
const DEFAULT_HTML_PATH: &str = "reports/report.html";

fn parse_duration_arg(s: &str) -> Result<Duration, String> {
    config::parse_duration(s)
        .ok_or_else(|| format!("`{s}` is not a duration (write e.g. 30s, 1500ms or 2m)"))
}

/// Entry point of the binary.
pub fn main() -> ExitCode {
    unblock_interrupt();
    let cli = Cli::parse();
    let code = match cli.command {
        Command::Run(args) => run_command(*args),
        Command::Check(args) => check_command(*args),
        Command::Serve(args) => serve_command(args),
        Command::Explain(args) => explain_command(&args),
        Command::Profiles(args) => profiles_command(&args),
        Command::Snapshots(SnapshotsCommand::Accept { path }) => snapshots_command(&path, false),
        Command::Snapshots(SnapshotsCommand::Reject { path }) => snapshots_command(&path, true),
        Command::Schemas(SchemasCommand::Extract { spec, out, check }) => {
            extract_command(&spec, &out, check)
        }
    };
    ExitCode::from(code)
}

/// Ctrl-C ends a run with the report of what finished, and stops `serve`. A signal mask is
/// inherited: started by a process (or thread) that has SIGINT blocked, gatecheck would never
/// see it, and a CI job's interrupt would leave it running to the end. So SIGINT is unblocked
/// first, before any other thread exists to inherit the mask.
fn unblock_interrupt() {
    #[cfg(unix)]
    // SAFETY: the set is a local, initialised by sigemptyset before use; pthread_sigmask only
    // changes the calling thread's mask and is given valid pointers.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, libc::SIGINT);
        libc::pthread_sigmask(libc::SIG_UNBLOCK, &set, std::ptr::null_mut());
    }
}

/// Prints a setup error (one line, plus an optional hint line) and returns the setup exit code.
fn setup_error(message: impl std::fmt::Display) -> u8 {
    eprintln!("error: {message}");
    exit::SETUP_ERROR
}

/// `GET /models` of every target whose profile has it: the live list of available models decides
/// which cases can run. A target that does not answer a list is run as planned, with a note.
async fn discover_models(transport: &Transport, targets: &[Arc<Target>], plan: &mut plan::Plan) {
    for target in targets {
        let listed = crate::profile::get(&target.profile).is_some_and(|p| {
            p.capabilities
                .contains(&crate::suite::Capability::ModelsEndpoint)
        });
        if !listed {
            continue;
        }
        match crate::discover::fetch(transport, target).await {
            Ok(listing) => {
                for model in target
                    .models
                    .iter()
                    .filter(|m| !listing.models.contains_key(*m))
                {
                    let listed = listing.models.keys().map(String::as_str);
                    // A namespaced id (`openai/gpt-4o-mini`) for a bare one, or a near spelling.
                    let namespaced = listing
                        .models
                        .keys()
                        .find(|k| k.ends_with(&format!("/{model}")));
                    let near = namespaced
                        .map(String::as_str)
                        .or_else(|| crate::diag::did_you_mean(model, listed));
                    let hint = match near {
                        Some(near) => format!(" (did you mean `{near}`?)"),
                        None => format!(
                            " (it lists {})",
                            listing
                                .models
                                .keys()
                                .take(5)
                                .map(|m| format!("`{m}`"))
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    };
                    eprintln!(
                        "note: `{}` does not list the model `{model}` in GET /models{hint}; cases using it are skipped",
                        target.name
                    );
                }
                crate::discover::apply(plan, &target.name, &listing);
            }
            Err(e) => eprintln!(
                "note: {e} for `{}`, so model availability is not checked (--no-discover skips asking)",
                target.name
            ),
        }
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("the tokio runtime starts")
}

fn run_command(args: RunArgs) -> u8 {
    let env: BTreeMap<String, String> = std::env::vars().collect();
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    let flags = Flags {
        config: args.config.clone(),
        targets: args.targets.clone(),
        models: args.models.clone(),
        jobs: args.jobs,
        connect_timeout: args.connect_timeout,
        timeout: args.timeout,
        max_body_bytes: args.max_body,
        max_gap: args.max_gap,
        max_stream_bytes: args.max_stream_bytes,
        max_events: args.max_events,
        rate_limit: args.rate_limit,
        profile_files: args.profile_file.clone(),
    };
    let settings = match config::resolve(&flags, &env, &cwd) {
        Ok(s) => s,
        Err(e) => return setup_error(e),
    };
    let filter = match libtest_filter("gatecheck run", &args.libtest) {
        Ok(f) => f,
        Err(code) => return code,
    };
    let suites = match load_suites(&args.paths, args.report.color) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let recorder = match args
        .record
        .as_deref()
        .map(crate::report::record::RecordReporter::create)
    {
        None => None,
        Some(Ok(r)) => Some(r),
        Some(Err(e)) => return setup_error(e),
    };

    let rt = runtime();
    rt.block_on(async move {
        // No target anywhere: start the reference gateway in-process, every dialect at once, and
        // test each as a target of its own, side by side.
        let (targets, gateway) = if settings.targets.is_empty() {
            if args.list {
                let models = GatewayOptions::default().models;
                let targets = embedded_targets(None, settings.rate_limit, |name| {
                    let dialect: crate::gateway::Dialect = name.parse().ok()?;
                    let url = format!("http://127.0.0.1:0/{name}{}", dialect.base_path());
                    Some((url, dialect.model_ids(&models)))
                });
                (targets, None)
            } else {
                let key = random_key();
                let options = GatewayOptions {
                    api_key: key.clone(),
                    dialect: None,
                    ..GatewayOptions::default()
                };
                match Gateway::start(([127, 0, 0, 1], 0).into(), options).await {
                    Ok(gw) => {
                        let targets =
                            embedded_targets(Some(Secret::new(key)), settings.rate_limit, |name| {
                                Some((gw.base_url_for(name)?, gw.models_for(name)?))
                            });
                        (targets, Some(gw))
                    }
                    Err(e) => {
                        return setup_error(format!("failed to start the reference gateway: {e}"));
                    }
                }
            }
        } else {
            (settings.targets.clone(), None)
        };
        let secrets: Vec<Secret> = targets.iter().filter_map(|t| t.api_key.clone()).collect();
        let targets: Vec<Arc<Target>> = targets.into_iter().map(Arc::new).collect();
        let mut plan = plan::build(&suites, &targets);

        let selected = match select(&plan, &filter, "gatecheck run --list") {
            Ok(s) => s,
            Err(code) => return code,
        };
        if args.list || filter.list {
            let mut out = Redacting::new(std::io::stdout().lock(), &secrets);
            for &i in &selected {
                let _ = writeln!(out, "{}: test", plan.cases[i].name);
            }
            return exit::SUCCESS;
        }

        let limits = Limits {
            connect: settings.connect_timeout,
            total: settings.timeout,
            max_gap: settings.max_gap,
            max_body_bytes: settings.max_body_bytes,
            max_stream_bytes: settings.max_stream_bytes,
        };
        let transport = match Transport::new(limits) {
            Ok(t) => t,
            Err(e) => return setup_error(e),
        };
        if !args.no_discover {
            discover_models(&transport, &targets, &mut plan).await;
        }
        let options = RunOptions {
            jobs: settings.jobs,
            stream_limits: StreamLimits {
                max_events: settings.max_events,
                max_event_gap: settings.max_gap,
                sse: Default::default(),
            },
            judging: Judging {
                fail_on: match args.fail_on {
                    FailOn::Violation => Severity::Violation,
                    FailOn::Warning => Severity::Warning,
                },
                strict: args.strict,
            },
        };
        let targets_run = run::target_names(selected.iter().map(|&i| &plan.cases[i]));
        let fail_on = match args.fail_on {
            FailOn::Violation => Severity::Violation,
            FailOn::Warning => Severity::Warning,
        };
        let context = ReportContext {
            targets: targets_run.len(),
            secrets: &secrets,
            fail_on,
            env: &env,
            complete: selected.len() == plan.cases.len(),
        };
        let (mut fan, outputs) = match reporters(&args.report, &context) {
            Ok(r) => r,
            Err(e) => return setup_error(e),
        };
        if let Some(recorder) = recorder {
            fan.0.push(Box::new(
                recorder
                    .secrets(&secrets)
                    .stream_limits(&options.stream_limits),
            ));
        }
        let interrupt = async {
            let _ = tokio::signal::ctrl_c().await;
        };
        let result =
            run::execute(&plan, &selected, &transport, &options, &mut fan, interrupt).await;
        drop(fan);
        if let Some(gw) = gateway {
            gw.shutdown().await;
        }
        let snapshots = outputs.snapshots.lock().expect("not poisoned");
        match result {
            Ok(summary) => exit::for_run(&summary, &snapshots),
            Err(e) => setup_error(format!("failed to write the report: {e}")),
        }
    })
}

/// The libtest arguments after `--` (FILTER, --exact, --skip PATTERN, --list), for `command`.
fn libtest_filter(command: &str, args: &[String]) -> Result<libtest_mimic::Arguments, u8> {
    let mut argv = vec![command.to_owned()];
    argv.extend(args.iter().cloned());
    <libtest_mimic::Arguments as Parser>::try_parse_from(&argv).map_err(|e| {
        let first = e.to_string();
        let first = first.lines().next().unwrap_or("invalid libtest arguments");
        setup_error(format!(
            "{} (after `--`)\n(hint: after `--` come libtest arguments: FILTER, --exact, --skip PATTERN, --list)",
            first.trim_start_matches("error: ")
        ))
    })
}

/// The suites at `paths` (the shipped ones when there are none); a broken suite is shown like
/// rustc shows it and stops everything.
fn load_suites(paths: &[PathBuf], color: ColorChoice) -> Result<Vec<suite::Suite>, u8> {
    let suites = if paths.is_empty() {
        suite::load_shipped()
    } else {
        suite::load_paths(paths)
    };
    match suites {
        Ok(s) => Ok(s),
        Err(suite::LoadError::Invalid(diags)) => {
            let color = use_color(color, std::io::stderr().is_terminal());
            for d in &diags {
                eprintln!("{}", d.render(color));
            }
            eprintln!(
                "error: {} problem{} in the suites; no request was sent",
                diags.len(),
                if diags.len() == 1 { "" } else { "s" }
            );
            Err(exit::SETUP_ERROR)
        }
        Err(e) => Err(setup_error(e)),
    }
}

/// The planned cases the libtest filter keeps (indices); none is an error naming the command
/// that lists them.
fn select(
    plan: &plan::Plan,
    filter: &libtest_mimic::Arguments,
    list: &str,
) -> Result<Vec<usize>, u8> {
    let trials: Vec<libtest_mimic::Trial> = plan
        .cases
        .iter()
        .map(|c| libtest_mimic::Trial::test(c.name.clone(), || Ok(())))
        .collect();
    let selected: Vec<usize> = trials
        .iter()
        .enumerate()
        .filter(|(_, t)| !filter.is_filtered_out(t))
        .map(|(i, _)| i)
        .collect();
    if selected.is_empty() {
        let what = match (&filter.filter, filter.skip.is_empty()) {
            (Some(f), _) => format!("the filter `{f}`"),
            (None, false) => "the --skip patterns".to_owned(),
            (None, true) => "the plan".to_owned(),
        };
        eprintln!(
            "error: {what} selects none of the {} planned cases\n(hint: `{list}` shows their names)",
            plan.cases.len()
        );
        return Err(exit::NOTHING_SELECTED);
    }
    Ok(selected)
}

/// What the reporters are given besides the flags.
struct ReportContext<'a> {
    /// How many targets the run has.
    targets: usize,
    secrets: &'a [Secret],
    fail_on: Severity,
    env: &'a BTreeMap<String, String>,
    /// The run selected every planned case (no filter): snapshots no case wrote are stale.
    complete: bool,
}

/// What the reporters hand back when the run is over (the exit code depends on it).
struct Outputs {
    snapshots: crate::report::snapshot::Shared,
}

/// The reporters a run feeds, from the output flags: the terminal or JSON Lines on stdout, each
/// case's snapshot (compared with a baseline when there is one), and the files (the matrix, when
/// there are two or more targets or `--matrix` names one; the answers compared; JUnit XML; the
/// HTML report, always).
/// Everything goes through the redacting writer. A bad `--update` or waiver file is a setup
/// error.
fn reporters(out: &ReportArgs, cx: &ReportContext<'_>) -> Result<(FanOut, Outputs), String> {
    use crate::report::snapshot::{SnapshotReporter, Update, baseline::Gate, waivers};
    let secrets = cx.secrets;
    let update = match (&out.update, cx.env.get("GATECHECK_UPDATE")) {
        (Some(mode), _) => Update::parse(mode).ok_or_else(|| {
            format!(
                "invalid --update `{mode}` (hint: write one of {})",
                Update::NAMES.join(", ")
            )
        })?,
        (None, Some(mode)) if !mode.is_empty() => Update::parse(mode).ok_or_else(|| {
            format!(
                "invalid GATECHECK_UPDATE `{mode}` (hint: set it to one of {})",
                Update::NAMES.join(", ")
            )
        })?,
        _ => Update::Auto,
    }
    .resolve(cx.env);
    let waivers_path = out.waivers.clone().or_else(|| {
        out.baseline
            .as_ref()
            .map(|d| d.join("waivers.yaml"))
            .filter(|p| p.is_file())
    });
    let waivers = match &waivers_path {
        Some(p) => waivers::load(p).map_err(|e| e.to_string())?,
        None => Vec::new(),
    };
    if let Some(dir) = &out.baseline
        && !dir.is_dir()
    {
        return Err(format!(
            "the baseline folder `{}` does not exist (hint: write one with `gatecheck run --snapshots {} --update always`, commit it, then pass --baseline)",
            dir.display(),
            dir.display()
        ));
    }
    let gate = (out.baseline.is_some() || waivers_path.is_some()).then(|| {
        let shown = out.baseline.as_ref().map(|d| d.display().to_string());
        Gate::new(
            shown.as_deref(),
            cx.fail_on,
            waivers,
            waivers::Date::today(),
        )
    });
    let color = use_color(out.color, std::io::stdout().is_terminal());
    let stdout = Redacting::new(std::io::stdout(), secrets);
    let main: Box<dyn Reporter + Send> = match out.format {
        Format::Human => Box::new(Terminal::new(stdout, color).verbose(out.verbose)),
        Format::Json => Box::new(JsonLines::new(stdout)),
    };
    // Side by side: the matrix, in the terminal (before the summary) and as Markdown.
    let several = cx.targets >= 2;
    let matrix_path = out
        .matrix
        .clone()
        .or_else(|| several.then(|| PathBuf::from(DEFAULT_MATRIX_PATH)));
    let matrix_out = (several && out.format == Format::Human)
        .then(|| Redacting::new(std::io::stdout(), secrets));
    let mut fan = FanOut(Vec::new());
    if matrix_path.is_some() || matrix_out.is_some() {
        fan.0.push(Box::new(MatrixReporter::new(
            matrix_out,
            color,
            matrix_path,
            secrets,
        )));
    }
    let compare_path = out
        .compare
        .clone()
        .or_else(|| several.then(|| PathBuf::from(DEFAULT_COMPARE_PATH)));
    if let Some(path) = compare_path {
        fan.0
            .push(Box::new(crate::report::shapes::ShapeReporter::new(
                path, secrets,
            )));
    }
    if let Some(path) = out.junit.clone() {
        fan.0
            .push(Box::new(crate::report::junit::JunitReporter::new(
                path, cx.fail_on, secrets,
            )));
    }
    let note: Option<Box<dyn Write + Send>> = (out.format == Format::Human)
        .then(|| Box::new(Redacting::new(std::io::stdout(), secrets)) as Box<dyn Write + Send>);
    // Each case's diff against the snapshot accepted in the baseline folder, when there is one.
    fan.0.push(Box::new(
        HtmlReporter::new(out.html.clone(), secrets)
            .note_to(note)
            .baseline(out.baseline.clone()),
    ));
    fan.0.push(main);
    // After the terminal, so a changed snapshot's diff follows its case's line; on stderr when
    // stdout carries JSON Lines.
    let dir = out
        .snapshots
        .clone()
        .or_else(|| out.baseline.clone())
        .unwrap_or_else(|| PathBuf::from(DEFAULT_SNAPSHOTS));
    let (snapshot_out, snapshot_color): (Box<dyn Write + Send>, bool) = match out.format {
        Format::Human => (Box::new(Redacting::new(std::io::stdout(), secrets)), color),
        Format::Json => (
            Box::new(Redacting::new(std::io::stderr(), secrets)),
            use_color(out.color, std::io::stderr().is_terminal()),
        ),
    };
    let (reporter, shared) =
        SnapshotReporter::new(dir, update, snapshot_out, snapshot_color, secrets, gate);
    let reporter = reporter.unreferenced(out.unreferenced, cx.complete);
    fan.0.push(Box::new(reporter));
    Ok((fan, Outputs { snapshots: shared }))
}

/// Where the targets `check` rebuilds from a recording point: nothing is ever sent there.
const RECORDED_HOST: &str = "http://recorded.invalid";

/// `gatecheck check DIR`: the recorded exchanges judged again by freshly planned cases, under
/// the recorded profiles or `--profile`, fed to the same reporters as a run.
fn check_command(args: CheckArgs) -> u8 {
    let filter = match libtest_filter("gatecheck check", &args.libtest) {
        Ok(f) => f,
        Err(code) => return code,
    };
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    for path in &args.profile_file {
        if let Err(e) = config::register_profile(&cwd.join(path), &cwd, "--profile-file") {
            return setup_error(e);
        }
    }
    let recorded = match crate::record::read_dir(&args.dir) {
        Ok(r) => r,
        Err(e) => {
            let missing = matches!(&e.kind, crate::record::RecordErrorKind::Io(io) if io.kind() == std::io::ErrorKind::NotFound);
            let hint = if missing {
                "\n(hint: `gatecheck run --record DIR` writes a recording folder)"
            } else {
                ""
            };
            return setup_error(format!("{e}{hint}"));
        }
    };
    let manifest = &recorded.manifest;
    let mut targets: Vec<Arc<Target>> = Vec::new();
    for t in &manifest.targets {
        let profile = args.profile.clone().unwrap_or_else(|| t.profile.clone());
        if crate::profile::get(&profile).is_none() {
            let names = crate::profile::names();
            let hint = did_you_mean(&profile, names.iter().copied()).map_or_else(
                || "pass its file with --profile-file PATH, or judge under another with --profile NAME".to_owned(),
                |s| format!("did you mean `{s}`?"),
            );
            return setup_error(format!(
                "unknown profile `{profile}` for the recorded target `{}`\n(hint: {hint})",
                t.name
            ));
        }
        let mut extra_capabilities = Vec::new();
        for name in &t.capabilities {
            match crate::suite::Capability::parse(name) {
                Some(c) => extra_capabilities.push(c),
                None => {
                    return setup_error(format!(
                        "`{}`: unknown capability `{name}` for the target `{}` (recorded by a newer gatecheck?)",
                        args.dir.join(crate::record::MANIFEST).display(),
                        t.name
                    ));
                }
            }
        }
        targets.push(Arc::new(Target {
            name: t.name.clone(),
            base_url: format!("{RECORDED_HOST}{}", t.base_path),
            api_key_env: "(none: judged offline)".into(),
            api_key: None,
            headers: Vec::new(),
            profile,
            models: t.models.clone(),
            concurrency: None,
            rate_limit: None,
            extra_capabilities,
        }));
    }
    let mut suites = match load_suites(&args.paths, args.report.color) {
        Ok(s) => s,
        Err(code) => return code,
    };
    // The shipped suites the recording ran, unless paths say which to load.
    if args.paths.is_empty() && !manifest.suites.is_empty() {
        suites.retain(|s| manifest.suites.contains(&s.name));
    }
    let plan = plan::build(&suites, &targets);

    if !manifest.finished || manifest.interrupted {
        eprintln!(
            "note: the run recorded in `{}` did not finish: cases it did not reach are skipped",
            args.dir.display()
        );
    }
    let absent: Vec<&str> = manifest
        .suites
        .iter()
        .filter(|name| !suites.iter().any(|s| s.name == **name))
        .map(String::as_str)
        .collect();
    if !absent.is_empty() {
        eprintln!(
            "note: the recording ran suites that are not loaded ({}); pass their files to judge them",
            absent.join(", ")
        );
    }
    let mut recordings = std::collections::HashMap::new();
    for (path, rec) in recorded.recordings {
        match plan.cases.iter().find(|c| c.name == rec.case) {
            None => eprintln!(
                "note: `{}` ({}) is no longer planned; not judged",
                rec.case,
                path.display()
            ),
            Some(case) => {
                let planned = case.request.body.as_deref().unwrap_or_default();
                let same = planned == rec.exchange.request.body.as_slice()
                    || serde_json::from_slice::<serde_json::Value>(planned)
                        .ok()
                        .is_some_and(|p| {
                            serde_json::from_slice::<serde_json::Value>(&rec.exchange.request.body)
                                .ok()
                                .is_some_and(|r| r == p)
                        });
                if !same {
                    eprintln!(
                        "note: `{}` was recorded with another request body than its suite sends now; judged as recorded",
                        rec.case
                    );
                }
            }
        }
        recordings.insert(rec.case.clone(), rec);
    }
    let selected = match select(&plan, &filter, "gatecheck check DIR -- --list") {
        Ok(s) => s,
        Err(code) => return code,
    };
    if filter.list {
        let mut out = std::io::stdout().lock();
        for &i in &selected {
            let _ = writeln!(out, "{}: test", plan.cases[i].name);
        }
        return exit::SUCCESS;
    }
    let targets_checked = run::target_names(selected.iter().map(|&i| &plan.cases[i]));
    let judging = Judging {
        fail_on: match args.fail_on {
            FailOn::Violation => Severity::Violation,
            FailOn::Warning => Severity::Warning,
        },
        strict: args.strict,
    };
    let env: BTreeMap<String, String> = std::env::vars().collect();
    let context = ReportContext {
        targets: targets_checked.len(),
        secrets: &[],
        fail_on: judging.fail_on,
        env: &env,
        complete: selected.len() == plan.cases.len(),
    };
    let (mut fan, outputs) = match reporters(&args.report, &context) {
        Ok(r) => r,
        Err(e) => return setup_error(e),
    };
    let mut limits = StreamLimits::default();
    if let Some(recorded) = &manifest.stream_limits {
        limits.max_events = recorded.max_events;
        limits.max_event_gap = Duration::from_millis(recorded.max_gap_ms);
    }
    if let Some(gap) = args.max_gap {
        limits.max_event_gap = gap;
    }
    if let Some(n) = args.max_events {
        limits.max_events = n;
    }
    let not_recorded = format!("not recorded in {}", args.dir.display());
    let result = crate::recheck::execute(
        &plan,
        &selected,
        &recordings,
        judging,
        limits,
        &not_recorded,
        &mut fan,
    );
    drop(fan);
    let snapshots = outputs.snapshots.lock().expect("not poisoned");
    match result {
        Ok(summary) => exit::for_run(&summary, &snapshots),
        Err(e) => setup_error(format!("failed to write the report: {e}")),
    }
}

/// One target per dialect of the embedded gateway, named after its profile: the dialect's base
/// URL and first served model (from `locate`, given a dialect's name), and fault injection on
/// request (the gateway misbehaves when a case asks it to). `gatecheck run` with no target runs
/// these; so does `tests/reference.rs`.
pub fn embedded_targets(
    key: Option<Secret>,
    rate_limit: Option<f64>,
    locate: impl Fn(&str) -> Option<(String, Vec<String>)>,
) -> Vec<Target> {
    crate::gateway::Dialect::names()
        .into_iter()
        .filter_map(|name| {
            let (base_url, models) = locate(name)?;
            Some(Target {
                name: name.to_owned(),
                base_url,
                api_key_env: "(generated for the embedded gateway)".into(),
                api_key: key.clone(),
                headers: Vec::new(),
                profile: name.to_owned(),
                models: models.into_iter().take(1).collect(),
                concurrency: None,
                rate_limit,
                extra_capabilities: vec![crate::suite::Capability::FaultInjection],
            })
        })
        .collect()
}

/// A per-run key for the embedded gateway: random enough that no other process guesses it.
fn random_key() -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut out = String::from("sk-gc-");
    for _ in 0..2 {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u128(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos()),
        );
        out.push_str(&format!("{:016x}", h.finish()));
    }
    out
}

fn use_color(choice: ColorChoice, is_terminal: bool) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => is_terminal && std::env::var_os("NO_COLOR").is_none(),
    }
}

fn serve_command(args: ServeArgs) -> u8 {
    if let Some(dir) = &args.replay {
        return replay_command(dir, args.port);
    }
    let (key, source) = match &args.api_key_env {
        Some(var) => match std::env::var(var) {
            Ok(k) if !k.is_empty() => (k, format!("the key in ${var}")),
            _ => {
                return setup_error(format!(
                    "${var} is not set\n(hint: export {var}=... or drop --api-key-env to use the default key `sk-gatecheck`)"
                ));
            }
        },
        None => (
            "sk-gatecheck".to_owned(),
            "the default key `sk-gatecheck`".to_owned(),
        ),
    };
    let profiles = crate::gateway::Dialect::names();
    if let Some(name) = &args.profile
        && !profiles.contains(&name.as_str())
    {
        let hint = did_you_mean(name, profiles.iter().copied()).map_or_else(
            || format!("the profiles are {}", profiles.join(", ")),
            |s| format!("did you mean `{s}`?"),
        );
        return setup_error(format!("unknown profile `{name}`\n(hint: {hint})"));
    }
    let options = GatewayOptions {
        api_key: key,
        chunk_delay: Duration::from_millis(args.chunk_delay_ms),
        fault: args.fault.clone(),
        dialect: args.profile.clone(),
        ..GatewayOptions::default()
    };
    runtime().block_on(async move {
        let gw = match Gateway::start(([127, 0, 0, 1], args.port).into(), options).await {
            Ok(gw) => gw,
            Err(e) if e.kind() == std::io::ErrorKind::InvalidInput => return setup_error(e),
            Err(e) => {
                return setup_error(format!(
                    "failed to listen on 127.0.0.1:{}: {e}\n(hint: pass --port 0 to pick a free port)",
                    args.port
                ));
            }
        };
        let models = |name: &str| gw.models_for(name).unwrap_or_default().join(", ");
        match &args.profile {
            Some(name) => println!(
                "gatecheck reference gateway, profile {name}, on {} (models: {})",
                gw.base_url(),
                models(name)
            ),
            None => {
                println!("gatecheck reference gateway, every profile (openai also at {}):", gw.base_url());
                let width = profiles.iter().map(|p| p.len()).max().unwrap_or(0);
                for name in &profiles {
                    let url = gw.base_url_for(name).unwrap_or_default();
                    println!("  {name:<width$}  {url}  (models: {})", models(name));
                }
            }
        }
        println!("clients authenticate with {source}; Ctrl-C stops it");
        println!(
            "the keys sk-gatecheck-broke and sk-gatecheck-throttled authenticate too, and are answered with the profile's out-of-credit and rate-limit errors"
        );
        let _ = tokio::signal::ctrl_c().await;
        gw.shutdown().await;
        exit::SUCCESS
    })
}

fn snapshots_command(path: &std::path::Path, reject: bool) -> u8 {
    if !path.exists() {
        return setup_error(format!(
            "`{}` does not exist\n(hint: pass the folder a run wrote its snapshots to, e.g. {DEFAULT_SNAPSHOTS})",
            path.display()
        ));
    }
    match crate::report::snapshot::accept(path, reject) {
        Ok(done) => {
            let (verb, what) = if reject {
                ("rejected", "deleted")
            } else {
                ("accepted", "moved over the .snap")
            };
            for p in &done {
                println!("{verb} {}", p.display());
            }
            println!(
                "{verb} {} snapshot{} ({what})",
                done.len(),
                if done.len() == 1 { "" } else { "s" }
            );
            exit::SUCCESS
        }
        Err(e) => setup_error(format!(
            "failed to handle the snapshots under `{}`: {e}",
            path.display()
        )),
    }
}

/// `gatecheck serve --replay DIR`: the recorded exchanges served back with their timing.
fn replay_command(dir: &std::path::Path, port: u16) -> u8 {
    runtime().block_on(async move {
        let replay = match crate::gateway::Replay::start(([127, 0, 0, 1], port).into(), dir).await {
            Ok(r) => r,
            Err(e) if e.kind() == std::io::ErrorKind::InvalidData => return setup_error(e),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return setup_error(format!(
                    "{e}\n(hint: `gatecheck run --record DIR` writes a recording folder)"
                ));
            }
            Err(e) => {
                return setup_error(format!(
                    "failed to listen on 127.0.0.1:{port}: {e}\n(hint: pass --port 0 to pick a free port)"
                ));
            }
        };
        println!(
            "gatecheck replay of {} ({} recorded exchanges), per target:",
            dir.display(),
            replay.exchanges()
        );
        let targets = replay.targets();
        let width = targets.iter().map(String::len).max().unwrap_or(0);
        for name in &targets {
            println!("  {name:<width$}  {}", replay.base_url_for(name).unwrap_or_default());
        }
        if let Some(url) = replay.base_url() {
            println!("  (the one target also at {url})");
        }
        println!(
            "a request is answered by the recording with its method, path and body (equal ones take turns); Ctrl-C stops it"
        );
        let _ = tokio::signal::ctrl_c().await;
        replay.shutdown().await;
        exit::SUCCESS
    })
}

fn explain_command(args: &ExplainArgs) -> u8 {
    if args.list || args.id.is_none() {
        for c in catalog::CHECKS.iter().chain(catalog::ASSERTIONS) {
            println!("{:<38} {:<9} {}", c.id, c.severity.as_str(), c.summary);
        }
        return exit::SUCCESS;
    }
    let id = args.id.as_deref().unwrap_or_default();
    let Some(c) = catalog::lookup(id) else {
        let hint = did_you_mean(id, catalog::ids()).map_or_else(
            || "`gatecheck explain --list` prints every check".to_owned(),
            |s| format!("did you mean `{s}`?"),
        );
        return setup_error(format!("unknown check `{id}`\n(hint: {hint})"));
    };
    println!("{}", c.id);
    println!("  {}", c.summary);
    println!();
    println!(
        "severity:   {} (the worst it reports; single findings may be milder)",
        c.severity
    );
    println!("breaks:     {}", c.breaks);
    println!("provenance: {}", c.provenance);
    exit::SUCCESS
}

fn profiles_command(args: &ProfilesArgs) -> u8 {
    let cwd = std::env::current_dir().unwrap_or_default();
    for path in &args.profile_file {
        if let Err(e) = config::register_profile(&cwd.join(path), &cwd, "--profile-file") {
            return setup_error(e);
        }
    }
    let Some(name) = args.name.as_deref() else {
        for name in crate::profile::names() {
            let p = crate::profile::get(name).expect("listed");
            println!("{:<14} {:<16} {}", p.name, p.title, p.source);
        }
        return exit::SUCCESS;
    };
    match crate::profile::get(name) {
        Some(p) => {
            print!("{}", p.describe());
            exit::SUCCESS
        }
        None => {
            let names = crate::profile::names();
            let hint = did_you_mean(name, names.iter().copied()).map_or_else(
                || format!("profiles: {}", names.join(", ")),
                |s| format!("did you mean `{s}`?"),
            );
            setup_error(format!("unknown profile `{name}`\n(hint: {hint})"))
        }
    }
}

fn extract_command(spec: &std::path::Path, out: &std::path::Path, check: bool) -> u8 {
    let text = match std::fs::read_to_string(spec) {
        Ok(t) => t,
        Err(e) => {
            return setup_error(format!(
                "failed to read `{}`: {e}\n(hint: pass --spec PATH to openapi.json)",
                spec.display()
            ));
        }
    };
    let doc: serde_json::Value = match serde_json::from_str(&text) {
        Ok(d) => d,
        Err(e) => return setup_error(format!("`{}` is not JSON: {e}", spec.display())),
    };
    let schemas = match schema::extract::extract(&doc, &schema::extract::ROOTS) {
        Ok(s) => s,
        Err(e) => return setup_error(format!("failed to extract the schemas: {e}")),
    };
    let mut stale = Vec::new();
    for (name, value) in &schemas {
        let path = out.join(format!("{name}.json"));
        let fresh = schema::extract::to_pretty(value);
        if check {
            if std::fs::read_to_string(&path).ok().as_deref() != Some(fresh.as_str()) {
                stale.push(path.display().to_string());
            }
        } else if let Err(e) =
            std::fs::create_dir_all(out).and_then(|()| std::fs::write(&path, fresh))
        {
            return setup_error(format!("failed to write `{}`: {e}", path.display()));
        } else {
            println!("wrote {}", path.display());
        }
    }
    if stale.is_empty() {
        if check {
            println!("schemas in {} are current", out.display());
        }
        exit::SUCCESS
    } else {
        eprintln!(
            "stale: {}\n(hint: run `gatecheck schemas extract`)",
            stale.join(", ")
        );
        exit::FAILED
    }
}
