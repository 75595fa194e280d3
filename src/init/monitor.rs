//! `billguard init --monitor`: a scheduled GitHub Actions workflow that runs the
//! access contract every night and keeps one issue in step with it: opened (or
//! updated) with the markdown report when the verdict is fail, closed when it
//! passes again. The key and the database URL come from repository secrets named
//! after the variables billguard.toml reads; nothing else is needed.

use std::path::Path;

use crate::config::{BillingSource, Config};
use crate::error::CheckError;

pub const WORKFLOW_PATH: &str = ".github/workflows/billguard-monitor.yml";
/// The label that marks the one issue the monitor keeps.
pub const LABEL: &str = "billguard-drift";

/// The workflow for this repository's config.
pub fn workflow(config: &Config) -> String {
    let db = &config.database.url_env;
    let mut secrets = vec![format!("          {db}: ${{{{ secrets.{db} }}}}")];
    if config.billing.source == BillingSource::Api {
        let key = &config.billing.secret_env;
        secrets.insert(0, format!("          {key}: ${{{{ secrets.{key} }}}}"));
    }
    if let Some(other) = config.billing.database.url_env.as_ref().filter(|u| *u != db && config.billing.source == BillingSource::Database) {
        secrets.push(format!("          {other}: ${{{{ secrets.{other} }}}}"));
    }
    TEMPLATE.replace("@SECRETS@", &secrets.join("\n")).replace("@LABEL@", LABEL)
}

/// Writes the workflow; a second run with the same config changes nothing.
pub fn write(repo: &Path) -> Result<String, CheckError> {
    let (config, config_path) = Config::discover(repo, None)?;
    let text = workflow(&config);
    let path = repo.join(WORKFLOW_PATH);
    let before = std::fs::read_to_string(&path).ok();
    let status = match &before {
        Some(b) if *b == text => "unchanged",
        Some(_) => "updated",
        None => "created",
    };
    if before.as_deref() != Some(text.as_str()) {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| CheckError::input(dir, format!("cannot create the directory: {e}")))?;
        }
        std::fs::write(&path, &text).map_err(|e| CheckError::input(&path, format!("cannot write the workflow: {e}")))?;
    }
    let names: Vec<&str> = text.lines().filter_map(|l| l.split_once("${{ secrets.").map(|(_, r)| r.trim_end_matches(" }}"))).filter(|n| *n != "GITHUB_TOKEN").collect();
    Ok(format!(
        "{WORKFLOW_PATH}: {status}\n\
         It runs `billguard check access` every night at 03:17 UTC (and on demand), with {} as config.\n\
         Add these repository secrets (Settings > Secrets and variables > Actions): {}.\n\
         Use a restricted read-only key and a read-only database role: the job only reads.\n\
         Set the repository variable BILLGUARD_GIT to the git URL billguard is installed from,\n\
         and optionally the secret SLACK_WEBHOOK_URL to be notified as well.\n\
         A failing contract opens (or updates) one issue labelled {LABEL}; it is closed when the contract passes.\n",
        config_path.map(|p| p.strip_prefix(repo).unwrap_or(&p).display().to_string()).unwrap_or_else(|| "the defaults (no billguard.toml)".into()),
        names.join(", ")
    ))
}

/// The workflow. `report` exits 0 pass, 1 fail, 2 error, 3 incomplete; the issue
/// step keeps one issue in step with it, and an error or incomplete run fails the job.
const TEMPLATE: &str = r#"# Written by `billguard init --monitor`: the access contract, every night.
name: billguard drift monitor
on:
  schedule:
    - cron: "17 3 * * *"
  workflow_dispatch: {}
permissions:
  contents: read
  issues: write
concurrency:
  group: billguard-monitor
  cancel-in-progress: false
jobs:
  drift:
    runs-on: ubuntu-latest
    timeout-minutes: 30
    steps:
      - uses: actions/checkout@v4
      - name: Install billguard
        env:
          BILLGUARD_GIT: ${{ vars.BILLGUARD_GIT }}
        run: |
          if ! command -v billguard >/dev/null; then
            if [ -z "$BILLGUARD_GIT" ]; then
              echo "::error::set the repository variable BILLGUARD_GIT to billguard's git URL"; exit 2
            fi
            cargo install --locked --git "$BILLGUARD_GIT" billguard
          fi
      - name: Check the access contract
        id: report
        env:
@SECRETS@
          SLACK_WEBHOOK_URL: ${{ secrets.SLACK_WEBHOOK_URL }}
        run: |
          set +e
          notify=""
          if [ -n "$SLACK_WEBHOOK_URL" ]; then notify="--notify-url-env SLACK_WEBHOOK_URL"; fi
          billguard check access --format markdown --report-file billguard-report.json $notify > billguard-report.md
          echo "code=$?" >> "$GITHUB_OUTPUT"
          cat billguard-report.md >> "$GITHUB_STEP_SUMMARY"
      - name: Keep the drift issue in step
        env:
          GH_TOKEN: ${{ github.token }}
          CODE: ${{ steps.report.outputs.code }}
          RUN_URL: ${{ github.server_url }}/${{ github.repository }}/actions/runs/${{ github.run_id }}
        run: |
          open=$(gh issue list --label @LABEL@ --state open --json number --jq '.[0].number')
          if [ "$CODE" = "1" ]; then
            printf '\n\n[Run]('"$RUN_URL"')\n' >> billguard-report.md
            if [ -n "$open" ]; then
              gh issue edit "$open" --body-file billguard-report.md
            else
              gh label create @LABEL@ --color B60205 --description "billguard: billing drift" --force
              gh issue create --title "billguard: billing and app access disagree" --label @LABEL@ --body-file billguard-report.md
            fi
          elif [ "$CODE" = "0" ]; then
            if [ -n "$open" ]; then
              gh issue close "$open" --comment "billguard: the access contract passes again ($RUN_URL)."
            fi
          else
            echo "::error::billguard could not check the contract (exit $CODE): see the step above"; exit "$CODE"
          fi
"#;
