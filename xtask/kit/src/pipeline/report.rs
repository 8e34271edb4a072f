//! What `package` prints about a zip: the summary a person reads, with the commands that create
//! or update the function ([`summary`]), and the JSON report scripts read ([`json`]). Pure but
//! for [`json`], which writes the files its commands read.

use std::path::Path;

use crate::artifact::layer::LayerZip;
use crate::aws::cli::{self, CliMajor, GlobalOptions, ZipCommands};
use crate::builder::Builder;
use crate::command::{self, Result, Shell};
use crate::paths;
use crate::pipeline::Zipped;

/// The summary of a zip and the commands for it, rendered for `shell`.
pub fn summary(
    zipped: &Zipped,
    commands: &ZipCommands,
    cwd: &Path,
    shell: Shell,
) -> Result<String> {
    let zip = &zipped.zip;
    let shown = paths::shown_from(&zip.path, cwd);
    let origin = match (&zip.target, zip.builder) {
        (Some(target), Some(builder)) => format!(
            "target {target}, built with {}",
            if builder == Builder::Cross {
                "cross"
            } else {
                "cargo"
            }
        ),
        _ => "built elsewhere".to_string(),
    };
    let mut out = format!(
        "Packaged {path}\n  architecture: {arch} ({origin})\n  \
         bootstrap:    {binary_size} bytes, {linkage}\n  zip:          {size} bytes\n  \
         CodeSha256:   {sha}\n",
        path = shown,
        arch = zip.arch,
        binary_size = zip.binary_size,
        linkage = zip.linkage,
        size = zip.size,
        sha = zip.sha256,
    );
    if let Some(toolchain) = &zip.toolchain {
        out.push_str(&format!(
            "  toolchain:    {}, commit {}\n",
            toolchain.rustc, toolchain.commit_hash
        ));
    }
    if !zip.includes.is_empty() {
        out.push_str(&format!("  includes:     {}\n", zip.includes.join(", ")));
    }
    if let Some(note) = zip.runtime.deprecation_note() {
        out.push_str(note);
        out.push('\n');
    }
    out.push_str("\nCreate the function:\n\n");
    out.push_str(&commands.create_function.render(shell)?);
    out.push_str("\n\nOr update the code of an existing one:\n\n");
    out.push_str(&commands.update_function_code.render(shell)?);
    out.push('\n');
    Ok(out)
}

/// The JSON report of one zip: the zip's fields first (scripts read them), then the commands
/// written for `shell` (named in `commands.shell`), then the function and its settings. Writes
/// the files the commands read beside the zip.
pub fn json(zipped: &Zipped, cwd: &Path, shell: Shell) -> Result<serde_json::Value> {
    let (zip, settings) = (&zipped.zip, &zipped.settings);
    let commands = ZipCommands::new(zip, settings, cwd);
    let payload = invoke_payload(&zipped.function);
    let forms = |major| {
        cli::invoke(
            &settings.function_name,
            &payload,
            cli::INVOKE_OUTFILE,
            major,
            &GlobalOptions::default(),
        )
        .place_files(cli::zip_dir(&zip.path), cwd)
    };
    let (v1, v2) = (forms(CliMajor::V1), forms(CliMajor::V2));
    command::write_files(commands.all().chain([&v1, &v2]), shell)?;
    let mut report = serde_json::to_value(zip).unwrap_or_default();
    report["commands"] = serde_json::json!({
        "shell": shell,
        "create_function": commands.create_function.render(shell)?,
        "update_function_code": commands.update_function_code.render(shell)?,
        "invoke": {
            "aws_cli_v1": v1.render(shell)?,
            "aws_cli_v2": v2.render(shell)?,
        },
    });
    report["function"] = serde_json::json!({
        "package": zipped.function.package,
        "bin": zipped.function.bin,
        "settings": settings,
    });
    Ok(report)
}

/// The event a printed invoke command sends: the function's own (its `invoke` metadata), else
/// `{}`. A payload file that cannot be read gives `{}` here: packaging does not need it, and
/// `invoke` says what is wrong with it.
pub fn invoke_payload(function: &crate::workspace::Function) -> String {
    function
        .default_event()
        .text()
        .unwrap_or_else(|_| "{}".to_string())
}

/// The summary of an extension layer and the command that publishes it, rendered for `shell`.
pub fn layer_summary(layer: &LayerZip, cwd: &Path, shell: Shell) -> Result<String> {
    let publish = cli::publish_layer_version(layer, cwd);
    let runtimes: Vec<&str> = layer.compatible_runtimes.iter().map(|r| r.name()).collect();
    Ok(format!(
        "Packaged the extension layer {path}\n  extension:    extensions/{name}\n  \
         architecture: {arch}\n  binary:       {binary_size} bytes, {linkage}\n  \
         zip:          {size} bytes\n  CodeSha256:   {sha}\n  runtimes:     {runtimes}\n\n\
         Publish it as a layer version (its ARN is in the answer's LayerVersionArn):\n\n{publish}\n\n\
         Run it beside a function locally: cargo xtask invoke --layer {path}\n",
        path = paths::shown_from(&layer.path, cwd),
        name = layer.extension,
        arch = layer.arch,
        binary_size = layer.binary_size,
        linkage = layer.linkage,
        size = layer.size,
        sha = layer.sha256,
        runtimes = runtimes.join(" "),
        publish = publish.render(shell)?,
    ))
}

/// The JSON report of an extension layer: its fields, then the publish command.
pub fn layer_json(layer: &LayerZip, cwd: &Path, shell: Shell) -> Result<serde_json::Value> {
    let mut report = serde_json::to_value(layer).unwrap_or_default();
    report["commands"] = serde_json::json!({
        "shell": shell,
        "publish_layer_version": cli::publish_layer_version(layer, cwd).render(shell)?,
    });
    Ok(report)
}
