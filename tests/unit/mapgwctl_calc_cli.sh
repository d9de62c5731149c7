#!/usr/bin/env bash
# Runs the real mapgwctl binary: exit codes and stdout shape of `calc`,
# including CLI-level errors (unknown options) that never reach run_calc.
set -u
ctl=$1
fail=0
check() {  # check NAME EXPECTED_STATUS PYTHON_ASSERTION -- ARGS...
  local name=$1 want=$2 assertion=$3; shift 4
  local out status
  out=$("$ctl" "$@" 2>/dev/null); status=$?
  if [[ $status -ne $want ]]; then
    echo "FAIL $name: exit $status, want $want; stdout: $out"; fail=1; return
  fi
  if ! printf '%s' "$out" | /usr/bin/python3 -c "
import json,sys
text=sys.stdin.read()
assert text.count('\n') == 0 or text.endswith('\n') and text.count('\n') == 1, 'not one line'
j=json.loads(text)
assert $assertion, j
"; then echo "FAIL $name: $out"; fail=1; return; fi
  echo "ok   $name"
}
R=ipv6=2001:db8::/40,ipv4=192.0.2.0/24,ea=16
check prefix 0 "j['psid']==52 and j['ce_ipv6_address']=='2001:db8:12:3400:0:c000:212:34'" -- \
  calc --rule $R --prefix 2001:db8:12:3400::/56 --json
check dst 0 "j['action']=='encapsulate' and j['end_user_prefix']=='2001:db8:12:3400::/56'" -- \
  calc --rule $R --dst 192.0.2.18:1232 --json
check check_src 0 "j['action']=='drop' and j['reason']=='wrong_psid'" -- \
  calc --rule $R --check-src 2001:db8:12:3400:0:c000:212:34 --inner-src 192.0.2.18:1236 --json
check unknown_option 2 "list(j)==['error']" -- calc --rule $R --bogus --json
check bad_rule 2 "'EA-bits' in j['error']" -- calc --rule ${R/ea=16/ea=64} --prefix ::/0 --json
# Without --json: exit 2 and a one-line message on stderr, nothing on stdout.
out=$("$ctl" calc --rule $R --prefix nonsense 2>&1 >/dev/null); status=$?
if [[ $status -eq 2 && $(printf '%s\n' "$out" | wc -l) -eq 1 && $out == mapgwctl:* ]]; then
  echo "ok   text_error"
else
  echo "FAIL text_error: exit $status, stderr: $out"; fail=1
fi
exit $fail
