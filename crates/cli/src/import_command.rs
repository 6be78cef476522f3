//! `medaudit bank import FORMAT SOURCE --out DIR`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use medaudit_core::bank::ParsedBank;
use medaudit_core::Lang;
use medaudit_engine::import::{import, load_mapping, ImportFormat, SourceRecord};

use crate::args::{BankImportArgs, LangArg};
use crate::paths::default_bank;

/// The shipped mapping for a format: ./import/mappings/FORMAT.toml, or beside the sources.
fn default_mapping(format: ImportFormat) -> PathBuf {
    let name = format!("{}.toml", format.name());
    let local = PathBuf::from("import/mappings").join(&name);
    if local.exists() {
        return local;
    }
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../import/mappings").join(name)
}

fn inside(path: &Path, folder: &Path) -> bool {
    let (Ok(folder), Some(parent)) = (folder.canonicalize(), path.parent()) else { return false };
    let parent = parent.canonicalize().unwrap_or_else(|_| parent.to_path_buf());
    parent.join(path.file_name().unwrap_or_default()).starts_with(folder)
}

pub fn run(args: BankImportArgs) -> anyhow::Result<u8> {
    let format = ImportFormat::parse(&args.format).ok_or_else(|| medaudit_engine::import::ImportError::UnknownFormat(args.format.clone()))?;
    if matches!(format, ImportFormat::Csv | ImportFormat::Jsonl) && args.mapping.is_none() {
        bail!("the {} format needs --mapping FILE naming its columns (see import/mappings/generic-example.toml)", format.name());
    }
    if inside(&args.out, &default_bank()) {
        bail!("--out {} is inside the shipped bank; imported items never enter medaudit's own bank, choose a folder outside it", args.out.display());
    }
    if args.out.exists() && std::fs::read_dir(&args.out).map(|mut entries| entries.next().is_some()).unwrap_or(true) {
        bail!("--out {} already exists and is not empty; choose a new folder", args.out.display());
    }
    let mapping_path = args.mapping.clone().unwrap_or_else(|| default_mapping(format));
    let mapping = load_mapping(&mapping_path)?;
    let lang = match args.lang {
        Some(LangArg::En) => Lang::En,
        Some(LangArg::Zh) => Lang::Zh,
        Some(LangArg::Both) => bail!("--lang both is not an import language; a source is in zh or en"),
        None if format == ImportFormat::MedSafetyBench => Lang::En,
        None => Lang::Zh,
    };
    let imported = import(format, &args.source, args.answers.as_deref(), &mapping, &mapping_path, lang)?;
    for note in &imported.notes {
        eprintln!("note: {note}");
    }

    // Everything goes to a temporary folder first and is checked by the validator; only a
    // complete, valid import is moved into place.
    let staging = args.out.with_file_name(format!(
        ".{}.partial-{}",
        args.out.file_name().map(|name| name.to_string_lossy().to_string()).unwrap_or_default(),
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&staging);
    std::fs::create_dir_all(staging.join("items")).with_context(|| format!("cannot create {}", staging.display()))?;
    let result = (|| -> anyhow::Result<BTreeMap<String, usize>> {
        let file_name = format!("{}.jsonl", mapping.dataset.replace(['/', '\\', ' '], "-"));
        let mut text = String::new();
        for item in &imported.items {
            text.push_str(&serde_json::to_string(item)?);
            text.push('\n');
        }
        let items_path = staging.join("items").join(&file_name);
        std::fs::write(&items_path, &text).with_context(|| format!("cannot write {}", items_path.display()))?;
        let parsed = ParsedBank::parse_files([(items_path.display().to_string().as_str(), text.as_bytes())]);
        if let Some(problem) = parsed.problems.first() {
            bail!("the import produced an invalid item ({problem}); nothing was written");
        }
        let mut by_dimension: BTreeMap<String, usize> = BTreeMap::new();
        for item in &imported.items {
            *by_dimension.entry(item.dimension.clone()).or_default() += 1;
        }
        let record = SourceRecord {
            dataset: mapping.dataset.clone(),
            license: mapping.license.clone(),
            attribution: mapping.attribution.clone(),
            format: format.name().to_string(),
            source_files: imported.files.iter().map(|path| path.display().to_string()).collect(),
            n_items: imported.items.len(),
            by_dimension: by_dimension.clone(),
            mapping: mapping.categories.clone(),
        };
        std::fs::write(staging.join("SOURCE.json"), serde_json::to_string_pretty(&record)? + "\n")?;
        // Carry the source's own license text along with its rows.
        let source_folder = if args.source.is_dir() { args.source.clone() } else { args.source.parent().map(Path::to_path_buf).unwrap_or_default() };
        for folder in [source_folder.clone(), source_folder.parent().map(Path::to_path_buf).unwrap_or_default()] {
            for name in ["LICENSE", "LICENSE.txt", "SOURCE.txt"] {
                let candidate = folder.join(name);
                if candidate.is_file() && !staging.join(format!("{name}.source")).exists() {
                    std::fs::copy(&candidate, staging.join(format!("{name}.source")))?;
                }
            }
        }
        Ok(by_dimension)
    })();
    let by_dimension = match result {
        Ok(by_dimension) => by_dimension,
        Err(error) => {
            let _ = std::fs::remove_dir_all(&staging);
            return Err(error);
        }
    };
    if args.out.exists() {
        std::fs::remove_dir(&args.out).with_context(|| format!("cannot replace empty folder {}", args.out.display()))?;
    }
    std::fs::rename(&staging, &args.out).with_context(|| format!("cannot move the import into {}", args.out.display()))?;
    let n_open = imported.items.iter().filter(|item| !item.is_multiple_choice()).count();
    println!("imported {} items from {} ({}) into {}", imported.items.len(), args.source.display(), mapping.dataset, args.out.display());
    println!("by dimension: {}", by_dimension.iter().map(|(code, count)| format!("{code} {count}")).collect::<Vec<_>>().join(", "));
    if n_open > 0 {
        println!("{n_open} open items (no options): `medaudit eval` lists them as needing a judge and skips them");
    }
    Ok(0)
}
