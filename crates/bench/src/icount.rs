//! The instruction-count check: a run of `benches/icount.rs` against the
//! committed baseline (`icount-baseline.txt`). The `icount-check` binary
//! is its command line; CI (`.ci/run`) fails when it does.
//!
//! A run is gungraun's JSON output (`-- --output-format=json`), one line
//! per bench. Each bench is named `<group>/<case>/<impl>` from its group,
//! its case and its function (`parse/typical/ours`), and counted by its
//! instructions (callgrind's `Ir`). The check fails when a count rose by
//! more than [`LIMIT_PERCENT`], when a bench of the baseline did not run,
//! when a bench ran that the baseline does not hold, and when a bench
//! counted nothing (its set-up never turned the instrumentation on). A count that fell
//! by more than the limit passes, with a note to take the gain into the
//! baseline.
//!
//! The baseline is text: `#` comments, then one `name count` line per
//! bench. An intended rise updates it in the same commit (`icount-check
//! update RUN`), with the reason in the commit message.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde_json::Value;

/// A rise of more than this many percent fails the check.
pub const LIMIT_PERCENT: u64 = 5;

/// The command that writes a run's counts into the baseline.
pub const UPDATE_COMMAND: &str =
    "cargo run -q -p registry-credentials-bench --bin icount-check -- update";

/// Instruction counts by bench name.
pub type Counts = BTreeMap<String, u64>;

/// The counts of a run: gungraun's JSON lines.
///
/// # Errors
///
/// A message naming the line that is not a bench summary, or the field it
/// lacks.
pub fn read_run(jsonl: &str) -> Result<Counts, String> {
    let mut counts = Counts::new();
    for (n, line) in jsonl
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let at = || format!("line {} of the run", n + 1);
        let v: Value = serde_json::from_str(line).map_err(|e| {
            format!(
                "{} is not JSON ({e}); was the bench run with `-- --output-format=json`?",
                at()
            )
        })?;
        let (name, count) = bench(&v).map_err(|what| format!("{} {what}", at()))?;
        if counts.insert(name.clone(), count).is_some() {
            return Err(format!("{} names {name} a second time", at()));
        }
    }
    if counts.is_empty() {
        return Err("the run holds no bench: did `cargo bench … --bench icount` run?".into());
    }
    Ok(counts)
}

/// One bench summary's name and instruction count.
fn bench(v: &Value) -> Result<(String, u64), String> {
    let text = |field: &str| {
        v.get(field)
            .and_then(Value::as_str)
            .ok_or_else(|| format!("has no `{field}`: it is not a gungraun bench summary"))
    };
    let module = text("module_path")?;
    let function = text("function_name")?;
    let id = text("id")?;
    // `icount::<group>::<group>_<impl>`
    let group = module
        .split("::")
        .nth(1)
        .ok_or_else(|| format!("has the module path `{module}`, not `icount::<group>::…`"))?;
    let implementation = function
        .strip_prefix(group)
        .and_then(|f| f.strip_prefix('_'))
        .ok_or_else(|| format!("has the function `{function}`, not `{group}_<impl>`"))?;
    let name = format!(
        "{group}/{}/{}",
        id.replace('_', "-"),
        implementation.replace('_', "-")
    );
    let metrics = v
        .pointer("/profiles/0/summaries/total/summary/Callgrind/Ir/metrics")
        .ok_or_else(|| format!("({name}) has no callgrind instruction count"))?;
    // `Left` on a first run; `Both` (this run's first) when gungraun kept
    // an earlier run to compare with.
    let count = metrics
        .pointer("/Left/Int")
        .or_else(|| metrics.pointer("/Both/0/Int"))
        .and_then(Value::as_u64)
        .ok_or_else(|| format!("({name}) has an instruction count that is not a whole number"))?;
    Ok((name, count))
}

/// The counts of a baseline file.
///
/// # Errors
///
/// A message naming the line that is not `name count`.
pub fn read_baseline(text: &str) -> Result<Counts, String> {
    let mut counts = Counts::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut words = line.split_whitespace();
        let parsed = match (
            words.next(),
            words.next().map(str::parse::<u64>),
            words.next(),
        ) {
            (Some(name), Some(Ok(count)), None) => Some((name, count)),
            _ => None,
        };
        let Some((name, count)) = parsed else {
            return Err(format!(
                "line {} of the baseline is not `name count`: {line}",
                n + 1
            ));
        };
        if counts.insert(name.to_owned(), count).is_some() {
            return Err(format!(
                "line {} of the baseline names {name} a second time",
                n + 1
            ));
        }
    }
    Ok(counts)
}

/// A baseline file: `header` (its comment lines, kept from the old file),
/// then the counts, one per line, names padded to one column.
pub fn write_baseline(header: &str, counts: &Counts) -> String {
    let width = counts.keys().map(String::len).max().unwrap_or(0);
    let mut out = String::new();
    for line in header.lines() {
        out.push_str(line);
        out.push('\n');
    }
    for (name, count) in counts {
        let _ = writeln!(out, "{name:width$} {count}");
    }
    out
}

/// The comment lines at the head of a baseline file.
pub fn header(text: &str) -> String {
    text.lines()
        .take_while(|l| l.trim().is_empty() || l.trim_start().starts_with('#'))
        .map(|l| format!("{l}\n"))
        .collect()
}

/// What a comparison found: a line per bench, and the failures.
#[derive(Debug, Default)]
pub struct Report {
    /// Every bench: baseline, this run, change.
    pub table: String,
    /// Why the check fails; empty when it passes.
    pub failures: Vec<String>,
    /// Counts that fell by more than the limit.
    pub gains: Vec<String>,
}

/// `n` with thousands separated by commas.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The change from `old` to `new` in percent, with one decimal and a sign.
fn change(old: u64, new: u64) -> String {
    if old == 0 {
        return "new".into();
    }
    let per_mille = (i128::from(new) - i128::from(old)) * 1000 / i128::from(old);
    let sign = if per_mille < 0 { "-" } else { "+" };
    let p = per_mille.unsigned_abs();
    format!("{sign}{}.{} %", p / 10, p % 10)
}

/// Compares a run with the baseline.
pub fn compare(baseline: &Counts, run: &Counts) -> Report {
    let mut report = Report::default();
    let width = baseline
        .keys()
        .chain(run.keys())
        .map(String::len)
        .max()
        .unwrap_or(0);
    let _ = writeln!(
        report.table,
        "{:width$} {:>13} {:>13} {:>9}",
        "bench", "baseline", "this run", "change"
    );
    for (name, &new) in run {
        if new == 0 {
            report.failures.push(format!(
                "{name} counted no instruction: its set-up must turn callgrind's instrumentation on (`start_instrumentation`) before the measured call"
            ));
        }
        let Some(&old) = baseline.get(name) else {
            let _ = writeln!(
                report.table,
                "{name:width$} {:>13} {:>13} {:>9}",
                "-",
                thousands(new),
                "new"
            );
            report.failures.push(format!(
                "{name} ran ({} instructions) but the baseline has no count for it; add it with `{UPDATE_COMMAND} RUN`",
                thousands(new)
            ));
            continue;
        };
        let _ = writeln!(
            report.table,
            "{name:width$} {:>13} {:>13} {:>9}",
            thousands(old),
            thousands(new),
            change(old, new)
        );
        // More than LIMIT_PERCENT above: new / old > 1 + LIMIT / 100.
        if u128::from(new) * 100 > u128::from(old) * u128::from(100 + LIMIT_PERCENT) {
            report.failures.push(format!(
                "{name} rose from {} to {} instructions ({}), more than the {LIMIT_PERCENT} % allowed",
                thousands(old),
                thousands(new),
                change(old, new)
            ));
        } else if u128::from(new) * 100 < u128::from(old) * u128::from(100 - LIMIT_PERCENT) {
            report.gains.push(format!(
                "{name} fell from {} to {} instructions ({})",
                thousands(old),
                thousands(new),
                change(old, new)
            ));
        }
    }
    for (name, &old) in baseline {
        if !run.contains_key(name) {
            let _ = writeln!(
                report.table,
                "{name:width$} {:>13} {:>13} {:>9}",
                thousands(old),
                "-",
                "missing"
            );
            report.failures.push(format!(
                "{name} is in the baseline ({} instructions) but did not run: run the whole bench, or remove it from the baseline with `{UPDATE_COMMAND} RUN` if it is gone on purpose",
                thousands(old)
            ));
        }
    }
    report
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(module: &str, function: &str, id: &str, metrics: &str) -> String {
        format!(
            r#"{{"module_path":"{module}","function_name":"{function}","id":"{id}","profiles":[{{"summaries":{{"total":{{"summary":{{"Callgrind":{{"Ir":{{"metrics":{metrics}}}}}}}}}}}}}]}}"#
        )
    }

    #[test]
    fn a_run_names_each_bench_by_group_case_and_impl() {
        let run = [
            line(
                "icount::parse::parse_ours",
                "parse_ours",
                "typical",
                r#"{"Left":{"Int":1286}}"#,
            ),
            line(
                "icount::resolve::resolve_linear_scan",
                "resolve_linear_scan",
                "app_hit_1k",
                r#"{"Both":[{"Int":900},{"Int":800}]}"#,
            ),
        ]
        .join("\n");
        let counts = read_run(&run).unwrap();
        assert_eq!(counts["parse/typical/ours"], 1286);
        // The first of `Both` is this run's.
        assert_eq!(counts["resolve/app-hit-1k/linear-scan"], 900);
        assert_eq!(counts.len(), 2);
    }

    #[test]
    fn a_run_that_is_not_gungraun_json_is_refused_with_the_line() {
        let e = read_run("Benchmarking parse\n").unwrap_err();
        assert!(e.starts_with("line 1 of the run is not JSON"), "{e}");
        let e = read_run(r#"{"id":"x"}"#).unwrap_err();
        assert!(e.contains("has no `module_path`"), "{e}");
        assert!(read_run("").unwrap_err().contains("no bench"));
        let twice = [
            line(
                "icount::parse::parse_ours",
                "parse_ours",
                "short",
                r#"{"Left":{"Int":1}}"#,
            ),
            line(
                "icount::parse::parse_ours",
                "parse_ours",
                "short",
                r#"{"Left":{"Int":1}}"#,
            ),
        ]
        .join("\n");
        assert!(read_run(&twice).unwrap_err().contains("a second time"));
    }

    #[test]
    fn the_baseline_reads_back_what_was_written() {
        let mut counts = Counts::new();
        counts.insert("parse/short/ours".into(), 580);
        counts.insert("resolve/miss-1m/ours".into(), 4936);
        let text = write_baseline("# counts\n", &counts);
        assert_eq!(header(&text), "# counts\n");
        assert_eq!(read_baseline(&text).unwrap(), counts);
        let e = read_baseline("# c\nparse/short/ours many\n").unwrap_err();
        assert!(
            e.starts_with("line 2 of the baseline is not `name count`"),
            "{e}"
        );
    }

    fn counts(pairs: &[(&str, u64)]) -> Counts {
        pairs.iter().map(|&(n, c)| (n.to_owned(), c)).collect()
    }

    #[test]
    fn a_rise_of_more_than_five_percent_fails_naming_the_bench_and_both_counts() {
        let baseline = counts(&[("parse/typical/ours", 1000), ("parse/short/ours", 500)]);
        // 5 % exactly passes; one more instruction fails.
        let at_limit = compare(
            &baseline,
            &counts(&[("parse/typical/ours", 1050), ("parse/short/ours", 500)]),
        );
        assert!(at_limit.failures.is_empty(), "{:?}", at_limit.failures);
        let over = compare(
            &baseline,
            &counts(&[("parse/typical/ours", 1051), ("parse/short/ours", 500)]),
        );
        assert_eq!(
            over.failures,
            [
                "parse/typical/ours rose from 1,000 to 1,051 instructions (+5.1 %), more than the 5 % allowed"
            ]
        );
        assert!(over.table.contains("parse/typical/ours"));
    }

    #[test]
    fn a_fall_passes_with_a_note_and_missing_or_new_benches_fail() {
        let baseline = counts(&[("a/x/ours", 1000), ("b/x/ours", 10)]);
        let r = compare(&baseline, &counts(&[("a/x/ours", 900), ("c/x/ours", 7)]));
        assert_eq!(
            r.gains,
            ["a/x/ours fell from 1,000 to 900 instructions (-10.0 %)"]
        );
        assert_eq!(r.failures.len(), 2, "{:?}", r.failures);
        assert!(
            r.failures[0]
                .starts_with("c/x/ours ran (7 instructions) but the baseline has no count")
        );
        assert!(
            r.failures[1]
                .starts_with("b/x/ours is in the baseline (10 instructions) but did not run")
        );
    }

    #[test]
    fn a_bench_that_counted_nothing_fails() {
        let r = compare(&counts(&[("a/x/ours", 0)]), &counts(&[("a/x/ours", 0)]));
        assert_eq!(r.failures.len(), 1);
        assert!(
            r.failures[0].starts_with("a/x/ours counted no instruction"),
            "{:?}",
            r.failures
        );
    }

    #[test]
    fn counts_print_with_thousands_separators() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(252_599_399), "252,599,399");
        assert_eq!(change(1000, 1051), "+5.1 %");
        assert_eq!(change(1000, 995), "-0.5 %");
    }
}
