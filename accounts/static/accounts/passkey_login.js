// The passkey form of two pages: the back-office login's passkey step
// (templates/admin/barong_login.html) and the confirmation page's passkey button
// (management/templates/management/operation.html).
//
// The page left the WebAuthn options in #passkey-options (a login flow's, or those whose
// challenge is the SHA-256 of the displayed operation) and the form #passkey-form that
// carries what the server needs besides. On submit the browser's authenticator signs the
// challenge (navigator.credentials.get) and the form posts the assertion, JSON-encoded,
// to its own action on this same origin, where the server verifies it. Nothing is
// fetched from anywhere else.
(function () {
  "use strict";

  const optionsNode = document.getElementById("passkey-options");
  const form = document.getElementById("passkey-form");
  if (!optionsNode || !form) {
    return;
  }
  const button = document.getElementById("passkey-button");
  const errorNode = document.getElementById("passkey-error");

  function toBase64url(buffer) {
    const bytes = new Uint8Array(buffer);
    let text = "";
    for (let i = 0; i < bytes.length; i += 1) {
      text += String.fromCharCode(bytes[i]);
    }
    return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function fromBase64url(text) {
    const padded = text.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((text.length + 3) % 4);
    return Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
  }

  function requestOptions() {
    const publicKey = JSON.parse(optionsNode.textContent);
    publicKey.challenge = fromBase64url(publicKey.challenge);
    publicKey.allowCredentials = (publicKey.allowCredentials || []).map((descriptor) => ({
      ...descriptor,
      id: fromBase64url(descriptor.id),
    }));
    return { publicKey };
  }

  function assertionJSON(credential) {
    const response = credential.response;
    return {
      id: credential.id,
      rawId: toBase64url(credential.rawId),
      type: credential.type,
      response: {
        clientDataJSON: toBase64url(response.clientDataJSON),
        authenticatorData: toBase64url(response.authenticatorData),
        signature: toBase64url(response.signature),
        userHandle: response.userHandle ? toBase64url(response.userHandle) : null,
      },
      clientExtensionResults: credential.getClientExtensionResults
        ? credential.getClientExtensionResults()
        : {},
    };
  }

  function showError(message) {
    errorNode.textContent = message;
    errorNode.hidden = false;
    button.disabled = false;
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!window.PublicKeyCredential || !navigator.credentials) {
      showError("This browser cannot use passkeys.");
      return;
    }
    button.disabled = true;
    errorNode.hidden = true;
    let credential;
    try {
      credential = await navigator.credentials.get(requestOptions());
    } catch (error) {
      // Cancelled, timed out or no matching passkey: the flow is still unused.
      showError(`The passkey did not answer (${error.name}). Try again.`);
      return;
    }
    if (!credential) {
      showError("No passkey answered. Try again.");
      return;
    }
    form.elements.credential.value = JSON.stringify(assertionJSON(credential));
    form.submit();
  });
})();
