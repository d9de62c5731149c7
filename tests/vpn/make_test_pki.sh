#!/bin/sh
# A small PKI for the IKEv1-with-certificates tests, made by strongSwan's own
# `pki` tool (package strongswan-pki), into directory $1:
#   ca.pem/ca.key            the lab CA ("C=JP, O=mapgw lab, CN=Lab CA")
#   server.pem/server.key    the LNS (serverAuth, SAN lns.example and $2 if given)
#   alice.pem/alice.key      a client of the CA (clientAuth)
#   mallory.pem/mallory.key  a client of the CA, revoked in crl.pem
#   crl.pem                  the CA's CRL (mallory revoked)
#   expired.pem/expired.key  a certificate of the CA that expired in 2020
#   other-ca.pem/other-ca.key, eve.pem/eve.key   a CA nobody trusts, its client
# Keys are RSA 2048 and 0600. Exits non-zero on the first failure.
set -eu
dir=$1
san=${2:-}
mkdir -p "$dir"
cd "$dir"
umask 077
pki() { /usr/bin/pki "$@" 2>/dev/null; }  # its TPM plugin complains on stderr
key() { pki --gen --type rsa --size 2048 --outform pem > "$1.key"; }
issue() {  # name dn ca [extra args]
  name=$1 dn=$2 ca=$3
  shift 3
  pki --pub --in "$name.key" --type rsa |
    pki --issue --cacert "$ca.pem" --cakey "$ca.key" --dn "$dn" --outform pem "$@" > "$name.pem"
}
key ca
pki --self --ca --lifetime 30 --in ca.key --type rsa --dn "C=JP, O=mapgw lab, CN=Lab CA" --outform pem > ca.pem
key other-ca
pki --self --ca --lifetime 30 --in other-ca.key --type rsa --dn "C=JP, O=elsewhere, CN=Other CA" --outform pem \
  > other-ca.pem
key server
if [ -n "$san" ]; then
  issue server "C=JP, O=mapgw lab, CN=lns.example" ca --lifetime 30 --san lns.example --san "$san" --flag serverAuth
else
  issue server "C=JP, O=mapgw lab, CN=lns.example" ca --lifetime 30 --san lns.example --flag serverAuth
fi
for who in alice mallory; do
  key $who
  issue $who "C=JP, O=mapgw lab, CN=$who" ca --lifetime 30 --san "$who@lab.example" --flag clientAuth
done
key eve
issue eve "C=JP, O=elsewhere, CN=eve" other-ca --lifetime 30 --san eve@elsewhere.example --flag clientAuth
key expired
issue expired "C=JP, O=mapgw lab, CN=expired" ca --not-before "01.01.19 00:00:00" --not-after "01.01.20 00:00:00"
pki --signcrl --cacert ca.pem --cakey ca.key --lifetime 30 --reason key-compromise --cert mallory.pem \
  --outform pem > crl.pem
chmod 644 ./*.pem
