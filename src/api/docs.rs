//! Swagger UI, preset for signing in: poem-openapi's page with
//! `initOAuth({clientId: "swagger-ui", usePkceWithAuthorizationCodeGrant: true})`,
//! so Authorize → oauth2 (authorizationCode) needs no typing but a login.

use std::sync::OnceLock;

/// Where poem-openapi's template ends the `SwaggerUIBundle({...})` call.
const BUNDLE_CALL_END: &str = "deepLinking: true,\n    })";
/// Where it starts; the template derives the receiver URL from the page's
/// whole URL, which breaks once a deep link (`#/Users/…`) is in it.
const BUNDLE_CALL_START: &str = "    SwaggerUIBundle({";
const REDIRECT_URL: &str = "    oauth2RedirectUrl = window.location.origin + \"/docs/oauth-receiver.html\";\n    SwaggerUIBundle({";

const INIT_OAUTH: &str = r#"deepLinking: true,
    }).initOAuth({
        clientId: "swagger-ui",
        appName: "latchkey",
        usePkceWithAuthorizationCodeGrant: true,
    })"#;

/// The page the authorization endpoint redirects Swagger UI's sign-in window
/// to: it hands the code (or, for implicit, the token) or the error to the
/// Swagger UI window that opened it, through the `swaggerUIRedirectOauth2`
/// object Swagger UI leaves there, and closes itself. Written here (rather than
/// served by poem-openapi's Swagger UI endpoint, which would keep a second
/// copy of the 1.5 MB Swagger UI page in memory).
pub const OAUTH_RECEIVER: &str = r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Signing in · latchkey</title></head>
<body><p>Signing in… this window closes by itself.</p>
<script>
(function () {
  var target = null;
  try { target = window.opener && window.opener.swaggerUIRedirectOauth2; } catch (e) { target = null; }
  if (!target) { document.body.textContent = "Open this page from Swagger UI's Authorize dialog."; return; }
  var raw = window.location.hash.length > 1 ? window.location.hash.substring(1) : window.location.search.substring(1);
  var params = new URLSearchParams(raw);
  var got = {};
  params.forEach(function (value, key) { got[key] = value; });
  var auth = target.auth;
  var flow = auth.schema.get("flow");
  var sameState = got.state === target.state;
  var codeFlow = flow === "authorizationCode" || flow === "accessCode" || flow === "authorization_code";
  if (codeFlow && !auth.code) {
    if (!sameState) {
      target.errCb({authId: auth.name, source: "auth", level: "warning",
        message: "The state sent back is not the one Swagger UI sent: the sign-in may have been tampered with."});
    }
    if (got.code) {
      delete target.state;
      auth.code = got.code;
      target.callback({auth: auth, redirectUrl: target.redirectUrl});
    } else {
      target.errCb({authId: auth.name, source: "auth", level: "error",
        message: got.error ? "[" + got.error + "]: " + (got.error_description || "no code received") : "No code received from the server."});
    }
  } else {
    target.callback({auth: auth, token: got, isValid: sameState, redirectUrl: target.redirectUrl});
  }
  window.close();
})();
</script></body></html>
"#;

/// The Swagger UI page with the sign-in preset, made on the first request for
/// it and kept for the process. The page (1.5 MB: Swagger UI's script and style
/// with the spec inlined) and the spec are functions of this build alone (the
/// API's types), the same for every server in the process, so one static copy
/// serves them all: start-up does not build them, an idle server that nobody
/// opened the docs of does not hold them, and a request copies no byte of them.
pub fn swagger_page_static() -> &'static str {
    static PAGE: OnceLock<String> = OnceLock::new();
    PAGE.get_or_init(|| swagger_page(crate::api::api_service().swagger_ui_html()))
}

/// `/openapi.json`, made on first request (see [`swagger_page_static`]).
pub fn spec_json_static() -> &'static str {
    static SPEC: OnceLock<String> = OnceLock::new();
    SPEC.get_or_init(|| crate::api::api_service().spec())
}

/// `/openapi.yaml`, made on first request (see [`swagger_page_static`]).
pub fn spec_yaml_static() -> &'static str {
    static SPEC: OnceLock<String> = OnceLock::new();
    SPEC.get_or_init(|| crate::api::api_service().spec_yaml())
}

/// The Swagger UI page with the sign-in preset. Should poem-openapi's template
/// change shape, the page is served as it is (sign-in then needs the client id
/// typed in) and `tests/it/swagger.rs` fails.
/// Swagger UI for a created realm (served under `path`, `/realms/{name}`):
/// the same page, whose requests, sign-in endpoints and receiver page are the
/// realm's. Built per request from the static page (docs are rarely loaded;
/// keeping a 1.5 MB copy per realm would cost more than the copy).
pub fn realm_swagger_page(path: &str) -> String {
    // `path` is `/realms/` and a checked realm name: nothing to escape.
    let realm = format!(
        r#"    oauth2RedirectUrl = window.location.origin + "{path}/docs/oauth-receiver.html";
    spec.servers = [{{url: "{path}"}}];
    for (var flow of Object.values(((spec.components || {{}}).securitySchemes || {{}}).oauth2 ? spec.components.securitySchemes.oauth2.flows : {{}})) {{
        for (var u of ["authorizationUrl", "tokenUrl", "refreshUrl"]) {{ if (flow[u]) flow[u] = "{path}" + flow[u]; }}
    }}
    SwaggerUIBundle({{"#
    );
    swagger_page_static().replacen(REDIRECT_URL, &realm, 1)
}

pub fn swagger_page(html: String) -> String {
    if html.contains(BUNDLE_CALL_END) && html.contains(BUNDLE_CALL_START) {
        html.replacen(BUNDLE_CALL_END, INIT_OAUTH, 1)
            .replacen(BUNDLE_CALL_START, REDIRECT_URL, 1)
    } else {
        tracing::warn!("Swagger UI template changed: sign-in preset not applied");
        html
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_realms_page_points_at_the_realm() {
        let page = super::realm_swagger_page("/realms/team-a");
        assert!(page.contains(r#""/realms/team-a/docs/oauth-receiver.html""#));
        assert!(page.contains(r#"spec.servers = [{url: "/realms/team-a"}]"#));
        assert!(!page.contains(r#"window.location.origin + "/docs/oauth-receiver.html""#));
    }

    #[test]
    fn the_preset_is_applied_to_the_shipped_template() {
        let page = super::swagger_page(crate::api::api_service().swagger_ui_html());
        assert!(page.contains(r#"clientId: "swagger-ui""#));
        assert!(page.contains("usePkceWithAuthorizationCodeGrant: true"));
        assert!(page.contains("window.location.origin + \"/docs/oauth-receiver.html\""));
    }
}
