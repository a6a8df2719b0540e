# templates: every shipped template is valid and issues through
# `tierca-ica issue --template`; the shipped config example loads.
. "$(dirname "$0")/lib.sh"
top=$(cd "$(dirname "$0")/../.." && pwd)
hierarchy
cat >tierca.cfg <<CFG
server: { dir = "server"; };
client: { dir = "client"; };
policy: { leaf_days = 60; renew_before_days = 20; };
CFG
for t in "$top"/templates/*.cfg; do
	name=$(basename "$t" .cfg)
	step "template $name"
	# --dir comes from the config, by the template's ca.
	ok ica -c tierca.cfg issue --template "$t"
	kind=$(sed -n 's/^ca = "\(.*\)";/\1/p' "$t")
	f=$kind/issued/$name/cert.pem
	[ -s "$f" ] || fail "$name not issued into $kind"
	purpose=sslserver; [ "$kind" = client ] && purpose=sslclient
	openssl verify -CAfile root/ca.crt -untrusted "$kind/ca.crt" -purpose $purpose "$f" >/dev/null || fail "$name does not verify"
	days=$(( ( $(date -d "$(openssl x509 -in "$f" -noout -enddate | cut -d= -f2)" +%s) - $(date +%s) ) / 86400 ))
	[ "$days" -ge 59 ] && [ "$days" -le 60 ] || fail "$name: policy.leaf_days 60 not applied ($days)"
	subj=$(sed -n 's/^subject = "\(.*\)";/\1/p' "$t")
	[ -z "$subj" ] || openssl x509 -in "$f" -noout -subject -nameopt RFC2253 | grep -q "$(echo "$subj" | tr ',' '\n' | head -1)" || fail "$name subject"
done
step "a server template into the client intermediate is refused"
bad "is for the server intermediate" ica issue --dir client --template "$top/templates/git.cfg"
step "an IP-only server certificate under a constrained intermediate"
ok ica issue --dir server nas --ip 10.0.0.9
openssl x509 -in server/issued/nas/cert.pem -noout -ext subjectAltName | grep -q "IP Address:10.0.0.9" || fail "nas SAN"
step "the shipped config example loads"
ok ica -c "$top/deploy/tierca.cfg.example" list --dir server
step "a template with an unknown key names file and line"
printf 'name = "x";\nca = "server";\ndns = [ "x.internal" ];\nowner = "me";\n' >bad.cfg
bad "bad.cfg:4: unknown key 'owner'" ica issue --dir server --template bad.cfg
step "every shipped managed file declares where it goes"
for f in "$top"/templates/* "$top"/cron/* "$top"/deploy/*; do
	head -n 5 "$f" | grep -Eq '^(#|//|;) deploy-target: /' || fail "$f has no deploy-target header"
done
if command -v systemd-analyze >/dev/null; then
	for u in "$top"/cron/*.service "$top"/cron/*.timer; do
		# (the tools and man pages are not installed here: those two
		# complaints are expected; anything else is a broken unit)
		systemd-analyze verify "$u" 2>&1 | grep -Ev "Command .man |is not executable|No such file" && fail "$u does not verify"
	done
fi
echo "templates ok"
