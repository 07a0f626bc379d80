#!/usr/bin/env bash
# Set everything up, then build the sample package into out/:
# - the shared ärende for each of its organisations: .docx, PDF/A and handlingar.pdf;
# - the sample följebrev to every organisation, as .docx and PDF/A;
# - the sample sammanträde of Förskolenämnden: kallelse, sammantradeshandlingar.pdf and
#   its public version (the ärenden's handlingar are reused when unchanged);
# - the sample protokoll of that meeting and a protokollsutdrag per §.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/beslut build content/arenden/2023-10-handlingsplaner
.venv/bin/beslut letters content/utskick/2023-08-handlingsplaner --pdf
.venv/bin/beslut agenda content/sammantraden/2023-10-forskolenamnden
.venv/bin/beslut minutes content/sammantraden/2023-10-forskolenamnden
echo
echo "Klart. Öppna out/arenden/2023-10-handlingsplaner/gota-lejon/handlingar.pdf"
echo "(breven ligger i out/utskick/2023-08-handlingsplaner/)"
echo "och out/sammantraden/2023-10-forskolenamnden/sammantradeshandlingar.pdf"
echo "och out/sammantraden/2023-10-forskolenamnden/protokoll.pdf"
