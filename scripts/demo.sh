#!/usr/bin/env bash
# Set everything up, then build the sample package (beslutsunderlag, PDF, handlingar.pdf) into out/.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/beslut build content/arenden/2023-10-handlingsplaner
