//! docs/PROTOCOL.md's check tables (5.7 and 11.2) against the tests and vectors they name: every
//! row names a test (or a measurement), every row of a table of checks on received bytes names a
//! negative vector (or says `no-vector` and why), every named test is a `#[test]` function of the
//! named file, and every named vector exists with the row's error class. The syntax is the one
//! PROTOCOL.md 11.2 defines.
// Test-only parsing of a document in this repository: a malformed table is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use vectors::check::ERROR_CLASSES;

/// The tables the check covers: the text that introduces each, and whether its rows check
/// received bytes (and so need a vector).
const TABLES: [(&str, bool); 7] = [
    ("### 5.7 Bundle import", true),
    ("Initial message (", true),
    ("Setup bindings (", true),
    ("Ratchet message (", true),
    ("State restore (", true),
    ("Encrypt (", false),
    ("Other device operations", false),
];

/// Measurements a row may name instead of (or besides) a test.
const MEASUREMENTS: [&str; 1] = ["measure:constant-time"];

#[derive(Debug)]
struct Row {
    table: &'static str,
    label: String,
    class: Option<String>,
    covered: String,
    needs_vector: bool,
}

/// The rows of every covered table, found by the text that introduces it.
fn rows(doc: &str) -> Result<Vec<Row>, Vec<String>> {
    let lines: Vec<&str> = doc.lines().collect();
    let mut out = Vec::new();
    let mut errors = Vec::new();
    for (intro, needs_vector) in TABLES {
        let Some(start) = lines.iter().position(|l| l.starts_with(intro)) else {
            errors.push(format!("no table introduced by {intro:?}"));
            continue;
        };
        let Some(header_at) = (start..lines.len()).find(|&i| lines[i].starts_with('|')) else {
            errors.push(format!("{intro:?}: no table after it"));
            continue;
        };
        let header = cells(lines[header_at]);
        if header.last().map(String::as_str) != Some("Covered by") {
            errors.push(format!("{intro:?}: the last column is not \"Covered by\""));
            continue;
        }
        let class_col = header.iter().position(|h| h == "Class");
        let mut count = 0;
        for line in lines
            .iter()
            .skip(header_at + 2)
            .take_while(|l| l.starts_with('|'))
        {
            let c = cells(line);
            if c.len() != header.len() {
                errors.push(format!("{intro:?}: row with {} cells: {line}", c.len()));
                continue;
            }
            let class = class_col
                .and_then(|i| c[i].split_whitespace().next())
                .filter(|w| ERROR_CLASSES.contains(w))
                .map(str::to_string);
            out.push(Row {
                table: intro,
                label: format!("{} | {}", c[0], c[1]),
                class,
                covered: c.last().unwrap().clone(),
                needs_vector,
            });
            count += 1;
        }
        if count == 0 {
            errors.push(format!("{intro:?}: table has no rows"));
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

/// Cells of a table row, split on `|` outside backticks.
fn cells(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut code = false;
    for ch in line.trim().trim_start_matches('|').chars() {
        match ch {
            '`' => {
                code = !code;
                cur.push(ch);
            }
            '|' if !code => out.push(std::mem::take(&mut cur).trim().to_string()),
            _ => cur.push(ch),
        }
    }
    if !cur.trim().is_empty() {
        out.push(cur.trim().to_string());
    }
    out
}

/// The backticked items of a cell, with the text following each.
fn items(cell: &str) -> Vec<(String, String)> {
    let parts: Vec<&str> = cell.split('`').collect();
    (1..parts.len())
        .step_by(2)
        .map(|i| {
            (
                parts[i].to_string(),
                parts.get(i + 1).copied().unwrap_or("").to_string(),
            )
        })
        .collect()
}

/// Whether `file` (under `root`) holds a `#[test]` function `name`.
fn has_test(root: &Path, file: &str, name: &str) -> bool {
    let Ok(text) = std::fs::read_to_string(root.join(file)) else {
        return false;
    };
    let lines: Vec<&str> = text.lines().collect();
    lines.iter().enumerate().any(|(i, l)| {
        let l = l.trim_start();
        (l.starts_with(&format!("fn {name}(")) || l.starts_with(&format!("async fn {name}(")))
            && lines[i.saturating_sub(4)..i]
                .iter()
                .any(|p| p.trim_start().starts_with("#[test]"))
    })
}

/// Vector id → expected class, per vector file name.
type Vectors = BTreeMap<String, BTreeMap<String, String>>;

fn load_vectors(dir: &Path) -> Vectors {
    let mut out = Vectors::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("json") {
            continue;
        }
        let v: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let ids = v["vectors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| {
                (
                    x["id"].as_str().unwrap().to_string(),
                    x["expected"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        out.insert(path.file_name().unwrap().to_str().unwrap().to_string(), ids);
    }
    out
}

#[derive(Debug, Default)]
struct Summary {
    rows: usize,
    tests: usize,
    vectors: usize,
    measured: Vec<String>,
    no_vector: Vec<String>,
}

/// Checks every row; returns the summary or every problem found.
fn check(doc: &str, root: &Path, vectors: &Vectors) -> Result<Summary, Vec<String>> {
    let rows = rows(doc)?;
    let mut errors = Vec::new();
    let mut s = Summary {
        rows: rows.len(),
        ..Summary::default()
    };
    for row in &rows {
        let at = format!("{} row {}", row.table, row.label);
        let (mut tests, mut vecs, mut measures, mut no_vector) = (0, 0, 0, false);
        for (item, after) in items(&row.covered) {
            if let Some((file, name)) = item.split_once("::") {
                if !file.ends_with(".rs") || name.is_empty() {
                    errors.push(format!("{at}: bad test reference `{item}`"));
                } else if !has_test(root, file, name) {
                    errors.push(format!("{at}: no #[test] fn {name} in {file}"));
                }
                tests += 1;
            } else if let Some((file, id)) = item.split_once(".json:") {
                let file = format!("{file}.json");
                match vectors.get(&file).and_then(|f| f.get(id)) {
                    None => errors.push(format!("{at}: no vector {id} in {file}")),
                    Some(expected) if expected == "ok" => {
                        errors.push(format!("{at}: {file}:{id} is a positive vector"))
                    }
                    Some(expected) => {
                        if let Some(class) = &row.class
                            && class != expected
                        {
                            errors.push(format!(
                                "{at}: {file}:{id} expects {expected}, the row says {class}"
                            ));
                        }
                    }
                }
                vecs += 1;
            } else if MEASUREMENTS.contains(&item.as_str()) {
                measures += 1;
            } else if item == "no-vector" {
                let reason = after.trim_start_matches(':').trim();
                if reason.split_whitespace().count() < 3 {
                    errors.push(format!("{at}: `no-vector` without a reason"));
                }
                no_vector = true;
            } else {
                errors.push(format!("{at}: unknown item `{item}`"));
            }
        }
        if tests == 0 && measures == 0 {
            errors.push(format!("{at}: names no test and no measurement"));
        }
        if row.needs_vector && tests > 0 && vecs == 0 && !no_vector {
            errors.push(format!("{at}: checks received bytes but names no vector"));
        }
        if no_vector && vecs > 0 {
            errors.push(format!("{at}: names vectors and says `no-vector`"));
        }
        if measures > 0 {
            s.measured.push(at.clone());
        }
        if no_vector {
            s.no_vector.push(at);
        }
        s.tests += tests;
        s.vectors += vecs;
    }
    if errors.is_empty() {
        Ok(s)
    } else {
        Err(errors)
    }
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

#[test]
fn every_check_names_its_test_and_vector() {
    let root = root();
    let doc = std::fs::read_to_string(root.join("docs/PROTOCOL.md")).unwrap();
    let vectors = load_vectors(&root.join("vectors/data"));
    match check(&doc, &root, &vectors) {
        Ok(s) => {
            println!(
                "{} rows, {} test references, {} vector references",
                s.rows, s.tests, s.vectors
            );
            println!("rows covered by a measurement: {}", s.measured.len());
            for r in &s.measured {
                println!("  {r}");
            }
            println!(
                "rows without a vector (reason given): {}",
                s.no_vector.len()
            );
            for r in &s.no_vector {
                println!("  {r}");
            }
            assert!(s.rows >= 100, "only {} rows parsed", s.rows);
        }
        Err(errors) => panic!("{} problems:\n{}", errors.len(), errors.join("\n")),
    }
}

/// The checker refuses each kind of gap, on a small document of the same shape.
#[test]
fn checker_refuses_each_kind_of_gap() {
    let root = root();
    let vectors = load_vectors(&root.join("vectors/data"));
    let doc = |row: &str| {
        let mut d = String::new();
        for (intro, _) in TABLES {
            d.push_str(&format!(
                "{intro} x\n\n| # | Check | Class | Covered by |\n| --- | --- | --- | --- |\n"
            ));
            d.push_str(row);
            d.push_str("\n\n");
        }
        d
    };
    let good = "| 1 | c | Malformed | `target-impl/tests/bundle.rs::bad_framing_is_malformed`; `bundles.json:import-wrong-version` |";
    assert_eq!(check(&doc(good), &root, &vectors).unwrap().rows, 7);
    for (bad, why) in [
        (
            "| 1 | c | Malformed | `bundles.json:import-wrong-version` |",
            "names no test",
        ),
        (
            "| 1 | c | Malformed | `target-impl/tests/bundle.rs::bad_framing_is_malformed` |",
            "names no vector",
        ),
        (
            "| 1 | c | Malformed | `target-impl/tests/bundle.rs::no_such_test`; `bundles.json:import-wrong-version` |",
            "no #[test] fn",
        ),
        (
            "| 1 | c | Malformed | `target-impl/tests/bundle.rs::hand`; `bundles.json:import-wrong-version` |",
            "no #[test] fn",
        ),
        (
            "| 1 | c | Malformed | `target-impl/tests/bundle.rs::bad_framing_is_malformed`; `bundles.json:no-such-vector` |",
            "no vector",
        ),
        (
            "| 1 | c | Unauthentic | `target-impl/tests/bundle.rs::bad_framing_is_malformed`; `bundles.json:import-wrong-version` |",
            "expects Malformed",
        ),
        (
            "| 1 | c | Malformed | `target-impl/tests/bundle.rs::bad_framing_is_malformed`; `bundles.json:bundle-last-resort` |",
            "positive vector",
        ),
        (
            "| 1 | c | Malformed | `target-impl/tests/bundle.rs::bad_framing_is_malformed`; `no-vector` |",
            "without a reason",
        ),
        (
            "| 1 | c | Malformed | `target-impl/tests/bundle.rs::bad_framing_is_malformed`; `vector: x` |",
            "unknown item",
        ),
        ("| 1 | c | Malformed |", "cells"),
    ] {
        let errors = check(&doc(bad), &root, &vectors).expect_err(why);
        assert!(errors.iter().any(|e| e.contains(why)), "{why}: {errors:?}");
    }
    // A measurement stands in for a test, and needs no vector.
    let measured = "| 1 | c | — | `measure:constant-time` |";
    assert!(check(&doc(measured), &root, &vectors).is_ok());
}
