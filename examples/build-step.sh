#!/bin/sh
# A CodePipeline build step, run in the build container beside jobcreds. It needs nothing but
# the two variables jobcreds's users give every build container:
#
#   AWS_CONTAINER_CREDENTIALS_FULL_URI=http://127.0.0.1:9911/v1/credentials
#   AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE=/run/jobcreds/token
#
# It asks the sidecar where the artifacts are (/v1/artifacts), downloads the input artifact,
# "builds" it (BUILD_COMMAND, run in the unpacked sources; by default it writes a manifest of
# checksums), and uploads the output artifact with SSE-KMS under the pipeline's key. The AWS CLI
# finds the job's artifact credentials by itself, through the same two variables.
#
# Needs: sh, curl, jq, unzip, zip and the AWS CLI (v1 or v2).
set -eu

: "${AWS_CONTAINER_CREDENTIALS_FULL_URI:?set by the pod, task or unit that runs this build}"
: "${AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE:?set by the pod, task or unit that runs this build}"
BUILD_COMMAND=${BUILD_COMMAND:-'find . -type f ! -name MANIFEST -exec sha256sum {} + | sort -k2 > MANIFEST'}

sidecar=${AWS_CONTAINER_CREDENTIALS_FULL_URI%/v1/credentials}
# The token is read each time it is sent: jobcreds may rotate it (SIGHUP).
artifacts=$(curl --silent --show-error --fail --noproxy '*' \
    -H "Authorization: $(cat "$AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE")" "$sidecar/v1/artifacts")
input=$(printf '%s' "$artifacts" | jq -er '.inputArtifacts[0].uri')
output=$(printf '%s' "$artifacts" | jq -er '.outputArtifacts[0].uri')
kms_key=$(printf '%s' "$artifacts" | jq -r '.encryptionKey.id // empty')

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "build-step: downloading $input"
aws s3 cp --only-show-errors "$input" "$work/input.zip"
mkdir "$work/src"
unzip -q "$work/input.zip" -d "$work/src"

echo "build-step: building"
(cd "$work/src" && sh -c "$BUILD_COMMAND")

(cd "$work/src" && zip -q -r "$work/output.zip" .)
echo "build-step: uploading $output"
if [ -n "$kms_key" ]; then
    aws s3 cp --only-show-errors --sse aws:kms --sse-kms-key-id "$kms_key" "$work/output.zip" "$output"
else
    aws s3 cp --only-show-errors --sse aws:kms "$work/output.zip" "$output"  # the account's aws/s3 key
fi
echo "build-step: done"
