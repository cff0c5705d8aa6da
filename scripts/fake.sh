# The one way the shell scripts start the fake AWS (IntegrationTests/fake_aws.py); source it.
#   start_fake STATE_DIR [fake_aws.py options]
# sets FAKE_PID, FAKE_HTTPS (its CodePipeline, STS and S3), FAKE_CA (the CA to trust), and
# WORKER_ID / WORKER_SECRET (the worker key it knows); it stops when the script exits (its
# standard input closes) or on `kill "$FAKE_PID"`.
start_fake() {
    local state="$1"
    shift
    coproc FAKE { exec .venv/bin/python3 IntegrationTests/fake_aws.py --state-dir "$state" --exit-on-stdin-eof "$@"; }
    local info
    read -r info <&"${FAKE[0]}"
    eval "$(.venv/bin/python3 -c '
import json, shlex, sys
info = json.loads(sys.argv[1])
values = {"FAKE_HTTPS": "https://127.0.0.1:%d" % info["https_port"], "FAKE_CA": info["ca_bundle"],
          "WORKER_ID": info["worker"]["id"], "WORKER_SECRET": info["worker"]["secret"]}
print(" ".join("%s=%s" % (name, shlex.quote(value)) for name, value in values.items()))' "$info")"
}
