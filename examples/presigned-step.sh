#!/bin/sh
# A CodePipeline build step that never holds AWS credentials. It gets from jobcreds one presigned
# URL to download its input artifact and one to upload its output artifact, and moves the bytes
# with curl alone: no AWS CLI, no SDK, no AWS variable. Whoever reads its environment or its
# memory finds a token that can ask for those two URLs and nothing else.
#
#   JOBCREDS_URL=http://127.0.0.1:9911           the sidecar's address
#   JOBCREDS_TOKEN_FILE=/run/jobcreds/steps      a token file granted download,upload only:
#                                                jobcreds serve --token-file /run/jobcreds/steps:download,upload
#   INPUT_ARTIFACT=SourceOutput                  the artifact names the action declares
#   OUTPUT_ARTIFACT=BuildOutput
#
# The upload URL is bound to the exact bytes (their SHA-256 and length are signed into it), so
# even a leaked URL uploads this output and nothing else. BUILD_COMMAND runs in the unpacked
# sources; by default it writes a manifest of checksums.
#
# Needs: sh, curl, jq, unzip, zip, sha256sum.
set -eu

: "${JOBCREDS_URL:?the sidecar address, such as http://127.0.0.1:9911}"
: "${JOBCREDS_TOKEN_FILE:?a token file granted download,upload}"
: "${INPUT_ARTIFACT:?the input artifact name}"
: "${OUTPUT_ARTIFACT:?the output artifact name}"
BUILD_COMMAND=${BUILD_COMMAND:-'find . -type f ! -name MANIFEST -exec sha256sum {} + | sort -k2 > MANIFEST'}

# ask PATH: the sidecar's answer; the token is read each time (jobcreds may rotate it on SIGHUP).
ask() {
    curl --silent --show-error --fail --noproxy '*' \
        -H "Authorization: $(cat "$JOBCREDS_TOKEN_FILE")" "$JOBCREDS_URL$1"
}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "presigned-step: downloading $INPUT_ARTIFACT"
download=$(ask "/v1/artifacts/$INPUT_ARTIFACT/download")
# --path-as-is: the URL is signed exactly as given, dots and all.
curl --silent --show-error --fail --path-as-is -o "$work/input.zip" "$(printf '%s' "$download" | jq -er .url)"
mkdir "$work/src"
unzip -q "$work/input.zip" -d "$work/src"

echo "presigned-step: building"
(cd "$work/src" && sh -c "$BUILD_COMMAND")
(cd "$work/src" && zip -q -r "$work/output.zip" .)

sha256=$(sha256sum "$work/output.zip" | cut -d ' ' -f 1)
length=$(wc -c < "$work/output.zip" | tr -d ' ')
echo "presigned-step: uploading $OUTPUT_ARTIFACT ($length bytes, sha256 $sha256)"
upload=$(ask "/v1/artifacts/$OUTPUT_ARTIFACT/upload?sha256=$sha256&length=$length")
# Every header in the answer is signed into the URL: send each exactly as given.
set --
headers=$(printf '%s' "$upload" | jq -r '.headers | to_entries[] | "\(.key): \(.value)"')
while IFS= read -r header; do
    [ -n "$header" ] && set -- "$@" -H "$header"
done <<HEADERS
$headers
HEADERS
curl --silent --show-error --fail --path-as-is -X PUT --upload-file "$work/output.zip" "$@" \
    "$(printf '%s' "$upload" | jq -er .url)"
echo "presigned-step: done"
