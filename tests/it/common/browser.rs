//! A scripted browser for the authorization pages: it keeps cookies, does not
//! follow redirects, and fills in forms from the page it was given (hidden
//! fields and the CSRF token included), so a test walks
//! `GET /oauth/authorize` → login form → consent form and reads where the last
//! answer sends it.

use std::collections::HashMap;

use reqwest::{Response, StatusCode};

use super::{checked, TestServer};

/// A cookie-keeping client that does not follow redirects.
pub struct Browser {
    http: reqwest::Client,
    cookies: HashMap<String, String>,
    base: String,
}

impl Browser {
    pub fn new(server: &TestServer) -> Browser {
        Browser {
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .timeout(std::time::Duration::from_secs(20))
                .build()
                .expect("client"),
            cookies: HashMap::new(),
            base: server.base.clone(),
        }
    }

    /// The value of the cookie `name`, if the browser holds it.
    pub fn cookie(&self, name: &str) -> Option<&str> {
        self.cookies.get(name).map(String::as_str)
    }

    /// Puts a cookie back by hand (e.g. an old session after logout).
    pub fn set_cookie(&mut self, name: &str, value: &str) {
        self.cookies.insert(name.to_owned(), value.to_owned());
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    fn keep_cookies(&mut self, resp: &Response) {
        for v in resp.headers().get_all("set-cookie") {
            let v = v.to_str().expect("an ASCII cookie");
            let (pair, attrs) = v.split_once(';').unwrap_or((v, ""));
            let (k, val) = pair.split_once('=').expect("name=value");
            if attrs.contains("Max-Age=0") {
                self.cookies.remove(k);
            } else {
                self.cookies.insert(k.to_owned(), val.to_owned());
            }
        }
    }

    pub async fn get(&mut self, path_and_query: &str) -> Response {
        let req = self
            .http
            .get(format!("{}{path_and_query}", self.base))
            .header("cookie", self.cookie_header());
        let resp = checked(req).send().await.expect("the server answers");
        self.keep_cookies(&resp);
        resp
    }

    pub async fn post_form(&mut self, path: &str, form: &[(String, String)]) -> Response {
        let req = self
            .http
            .post(format!("{}{path}", self.base))
            .header("cookie", self.cookie_header())
            .form(form);
        let resp = checked(req).send().await.expect("the server answers");
        self.keep_cookies(&resp);
        resp
    }

    /// Submits the page's form (its hidden fields, the CSRF token among them)
    /// with `extra` fields added.
    pub async fn submit(&mut self, page: &str, extra: &[(&str, &str)]) -> Response {
        let action = attr_after(page, "<form method=\"post\" action=\"", "\"");
        let mut form = hidden_inputs(page);
        for (k, v) in extra {
            form.push((k.to_string(), v.to_string()));
        }
        self.post_form(&action, &form).await
    }

    /// Opens `url`, logs in on the login page and allows on the consent page;
    /// returns the final response (a redirect, or the out-of-band page). A
    /// login that does not lead to the consent page (first-party client, a
    /// refusal) is returned as it is.
    pub async fn sign_in_and_allow(&mut self, url: &str, user: &str, pw: &str) -> Response {
        let resp = self.get(url).await;
        assert_eq!(resp.status(), StatusCode::OK);
        let page = resp.text().await.expect("the login page");
        assert!(page.contains("name=\"username\""), "{page}");
        let resp = self
            .submit(&page, &[("username", user), ("password", pw)])
            .await;
        if resp.status() != StatusCode::OK {
            return resp;
        }
        let page = resp.text().await.expect("the consent page");
        assert!(page.contains("name=\"decision\""), "{page}");
        self.submit(&page, &[("decision", "allow")]).await
    }

    /// [`Browser::sign_in_and_allow`], expecting the redirect back (303);
    /// returns the code it carries.
    pub async fn sign_in_for_code(&mut self, url: &str, user: &str, pw: &str) -> String {
        let resp = self.sign_in_and_allow(url, user, pw).await;
        assert_eq!(resp.status(), StatusCode::SEE_OTHER);
        params_of(&location(&resp), '?')["code"].clone()
    }

    /// Opens `url` with a session and a consent already in place, expecting
    /// the redirect straight back (302); returns the code it carries.
    pub async fn code_again(&mut self, url: &str) -> String {
        let resp = self.get(url).await;
        assert_eq!(
            resp.status(),
            StatusCode::FOUND,
            "signed in and consented already"
        );
        params_of(&location(&resp), '?')["code"].clone()
    }
}

fn unescape(s: &str) -> String {
    s.replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

fn attr_after(page: &str, prefix: &str, end: &str) -> String {
    let start = page
        .find(prefix)
        .unwrap_or_else(|| panic!("{prefix} in {page}"))
        + prefix.len();
    let len = page[start..].find(end).expect("the end of the attribute");
    unescape(&page[start..start + len])
}

/// The hidden fields of the page's form.
pub fn hidden_inputs(page: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = page;
    while let Some(i) = rest.find("<input type=\"hidden\" name=\"") {
        rest = &rest[i + 27..];
        let name_end = rest.find('"').expect("the end of the name");
        let name = rest[..name_end].to_owned();
        let v = rest.find("value=\"").expect("a value") + 7;
        let v_end = rest[v..].find('"').expect("the end of the value");
        out.push((name, unescape(&rest[v..v + v_end])));
    }
    out
}

/// The page's `<title>`.
pub fn title(page: &str) -> String {
    attr_after(page, "<title>", "</title>")
}

/// The `Location` of a redirect.
pub fn location(resp: &Response) -> String {
    resp.headers()["location"]
        .to_str()
        .expect("an ASCII Location")
        .to_owned()
}

/// The query (or fragment) parameters of a URL.
pub fn params_of(url: &str, sep: char) -> HashMap<String, String> {
    let raw = url.split_once(sep).map(|(_, q)| q).unwrap_or("");
    form_urlencoded::parse(raw.as_bytes())
        .into_owned()
        .collect()
}
