//! Swagger UI, preset for signing in: poem-openapi's page with
//! `initOAuth({clientId: "swagger-ui", usePkceWithAuthorizationCodeGrant: true})`,
//! so Authorize → oauth2 (authorizationCode) needs no typing but a login.

/// Where poem-openapi's template ends the `SwaggerUIBundle({...})` call.
const BUNDLE_CALL_END: &str = "deepLinking: true,\n    })";

const INIT_OAUTH: &str = r#"deepLinking: true,
    }).initOAuth({
        clientId: "swagger-ui",
        appName: "latchkey",
        usePkceWithAuthorizationCodeGrant: true,
    })"#;

/// The Swagger UI page with the sign-in preset. Should poem-openapi's template
/// change shape, the page is served as it is (sign-in then needs the client id
/// typed in) and `tests/it/swagger.rs` fails.
pub fn swagger_page(html: String) -> String {
    if html.contains(BUNDLE_CALL_END) {
        html.replacen(BUNDLE_CALL_END, INIT_OAUTH, 1)
    } else {
        tracing::warn!("Swagger UI template changed: sign-in preset not applied");
        html
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_preset_is_applied_to_the_shipped_template() {
        let page = super::swagger_page(crate::api::api_service().swagger_ui_html());
        assert!(page.contains(r#"clientId: "swagger-ui""#));
        assert!(page.contains("usePkceWithAuthorizationCodeGrant: true"));
    }
}
