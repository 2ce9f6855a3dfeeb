"""The API plus one test-only page whose script drives navigator.credentials (browser test)."""

from django.http import HttpResponse
from django.urls import path

from barong.urls import urlpatterns as barong_urlpatterns

PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>passkey test</title></head><body>
<p id="out"></p>
<script>
const b64u = (buffer) => btoa(String.fromCharCode(...new Uint8Array(buffer)))
  .replace(/\\+/g, "-").replace(/\\//g, "_").replace(/=+$/, "");
const bytes = (text) => Uint8Array.from(
  atob(text.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((text.length + 3) % 4)),
  (c) => c.charCodeAt(0));
async function call(method, path, body, csrf) {
  const headers = {"Content-Type": "application/json"};
  if (csrf) headers["X-CSRF-Token"] = csrf;
  const response = await fetch(path, {method, headers, credentials: "same-origin",
    body: body === undefined ? undefined : JSON.stringify(body)});
  const text = await response.text();
  return {status: response.status, body: text ? JSON.parse(text) : null};
}
async function registerPasskey(email, password) {
  const login = await call("POST", "/api/v2/identity/sessions", {email, password});
  const csrf = login.body.csrf_token;
  const options = await call("POST", "/api/v2/resource/webauthn/register/options", {}, csrf);
  const pk = options.body.publicKey;
  pk.challenge = bytes(pk.challenge);
  pk.user.id = bytes(pk.user.id);
  pk.excludeCredentials = (pk.excludeCredentials || []).map(c => ({...c, id: bytes(c.id)}));
  const created = await navigator.credentials.create({publicKey: pk});
  const credential = {id: created.id, rawId: b64u(created.rawId), type: created.type,
    response: {clientDataJSON: b64u(created.response.clientDataJSON),
               attestationObject: b64u(created.response.attestationObject),
               transports: created.response.getTransports()},
    clientExtensionResults: {}};
  const verified = await call("POST", "/api/v2/resource/webauthn/register/verify",
                              {credential, name: "virtual"}, csrf);
  const logout = await call("DELETE", "/api/v2/identity/sessions", undefined, csrf);
  return {login: login.status, verified, logout: logout.status};
}
async function loginWithPasskey(email, password) {
  const plain = await call("POST", "/api/v2/identity/sessions", {email, password});
  const options = await call("POST", "/api/v2/identity/sessions/webauthn/options",
                             {email, password});
  const pk = options.body.publicKey;
  pk.challenge = bytes(pk.challenge);
  pk.allowCredentials = pk.allowCredentials.map(c => ({...c, id: bytes(c.id)}));
  const got = await navigator.credentials.get({publicKey: pk});
  const credential = {id: got.id, rawId: b64u(got.rawId), type: got.type,
    response: {clientDataJSON: b64u(got.response.clientDataJSON),
               authenticatorData: b64u(got.response.authenticatorData),
               signature: b64u(got.response.signature),
               userHandle: got.response.userHandle ? b64u(got.response.userHandle) : null},
    clientExtensionResults: {}};
  const flow_id = options.body.flow_id;
  const verified = await call("POST", "/api/v2/identity/sessions/webauthn/verify",
                              {flow_id, credential});
  const replay = await call("POST", "/api/v2/identity/sessions/webauthn/verify",
                            {flow_id, credential});
  const me = await call("GET", "/api/v2/resource/users/me");
  return {plain, options: options.status, verified, replay, me};
}
</script></body></html>"""


def passkey_page(request):
    return HttpResponse(PAGE)


urlpatterns = [path("passkey-test", passkey_page), *barong_urlpatterns]
