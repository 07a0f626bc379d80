#!/usr/bin/env bash
# Set everything up, then build the sample package into out/:
# - the shared ärende for each of its organisations: .docx, PDF/A and handlingar.pdf;
# - the sample följebrev to every organisation, as .docx and PDF/A.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/beslut build content/arenden/2023-10-handlingsplaner
.venv/bin/beslut letters content/utskick/2023-08-handlingsplaner --pdf
echo
echo "Klart. Öppna out/arenden/2023-10-handlingsplaner/gota-lejon/handlingar.pdf (breven ligger i out/utskick/2023-08-handlingsplaner/)"
