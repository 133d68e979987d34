//! The one reader of OAuth parameters, for the protocol endpoints and the
//! authorization pages alike: a form body (RFC 6749), a JSON object of strings
//! (IriSync) or the query string (Image Relay), in any mix; a parameter given
//! twice is refused (RFC 6749 §3.1, §3.2), empty values count as absent, and
//! no request carries more than [`MAX_PARAMS`] parameters.

use std::collections::HashSet;
use std::fmt;
use std::marker::PhantomData;
use std::ops::Deref;

use poem::http::header::CONTENT_TYPE;
use poem::{Request, RequestBody};
use poem_openapi::registry::{MetaMediaType, MetaRequest, Registry};
use poem_openapi::types::Type;
use poem_openapi::{ApiExtractor, ApiExtractorType, ExtractParamOptions};

use crate::api::error::{ApiError, TokenEndpoint};
use crate::domain::oauth::{OAuthError, OAuthErrorCode};
use crate::error::Error;

/// More parameters than any OAuth request or form of ours carries.
pub const MAX_PARAMS: usize = 64;

/// Why parameters could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParamError {
    TooMany,
    Repeated(String),
    /// The JSON body is not an object of string (or null) values.
    Json(String),
    /// A body that is neither a form nor JSON (its media type, if any).
    MediaType(Option<String>),
}

impl fmt::Display for ParamError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParamError::TooMany => f.write_str("too many parameters"),
            ParamError::Repeated(k) => write!(
                f,
                "the parameter {k:?} is given more than once (RFC 6749 §3.2)"
            ),
            ParamError::Json(e) => {
                write!(
                    f,
                    "the JSON body is not an object of string parameters: {e}"
                )
            }
            ParamError::MediaType(m) => write!(
                f,
                "send parameters as application/x-www-form-urlencoded or application/json, not {}",
                m.as_deref().unwrap_or("a body without Content-Type")
            ),
        }
    }
}

impl ParamError {
    /// The sentence an HTML page shows.
    pub fn page_sentence(&self) -> String {
        match self {
            ParamError::TooMany => "The request has too many parameters.".into(),
            ParamError::Repeated(k) => format!("The parameter {k:?} is given more than once."),
            other => format!("The request could not be read: {other}."),
        }
    }
}

impl From<ParamError> for OAuthError {
    fn from(e: ParamError) -> OAuthError {
        OAuthError::new(OAuthErrorCode::InvalidRequest, e.to_string())
    }
}

/// Parameters read from a request, each name at most once, empty ones left out.
#[derive(Debug, Default, Clone)]
pub struct Params {
    pairs: Vec<(String, String)>,
    seen: HashSet<String>,
}

impl Params {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn owned(&self, name: &str) -> Option<String> {
        self.get(name).map(str::to_owned)
    }

    /// The query string of a browser request (the authorization endpoint).
    pub fn from_query(query: &str) -> Result<Params, ParamError> {
        let mut params = Params::default();
        params.add_form(query.as_bytes())?;
        Ok(params)
    }

    /// A posted HTML form (the login and consent pages).
    pub fn from_form(body: &[u8]) -> Result<Params, ParamError> {
        Params::from_query("").and_then(|mut p| p.add_form(body).map(|()| p))
    }

    /// The protocol endpoints: the query string and a form or JSON body.
    pub fn read(
        query: &str,
        content_type: Option<&str>,
        body: &[u8],
    ) -> Result<Params, ParamError> {
        let mut params = Params::from_query(query)?;
        if body.iter().all(u8::is_ascii_whitespace) {
            return Ok(params);
        }
        let media = content_type
            .and_then(|c| c.split(';').next())
            .map(|c| c.trim().to_ascii_lowercase());
        match media.as_deref() {
            Some("application/x-www-form-urlencoded") => params.add_form(body)?,
            Some("application/json") => {
                let JsonParams(pairs) =
                    serde_json::from_slice(body).map_err(|e| ParamError::Json(e.to_string()))?;
                for (k, v) in pairs {
                    let Some(value) = v else { continue };
                    params.add(k, value)?;
                }
            }
            other => return Err(ParamError::MediaType(other.map(str::to_owned))),
        }
        Ok(params)
    }

    fn add_form(&mut self, bytes: &[u8]) -> Result<(), ParamError> {
        for (k, v) in form_urlencoded::parse(bytes) {
            if self.seen.len() >= MAX_PARAMS {
                return Err(ParamError::TooMany);
            }
            self.add(k.into_owned(), v.into_owned())?;
        }
        Ok(())
    }

    fn add(&mut self, name: String, value: String) -> Result<(), ParamError> {
        if !self.seen.insert(name.clone()) {
            return Err(ParamError::Repeated(name));
        }
        // RFC 6749 §3.1: a parameter sent without a value is treated as omitted.
        if !value.is_empty() {
            self.pairs.push((name, value));
        }
        Ok(())
    }
}

/// A JSON object of string (or null) parameters, in order, keeping repeated
/// keys so they can be refused (a plain map would keep the last silently).
struct JsonParams(Vec<(String, Option<String>)>);

impl<'de> serde::Deserialize<'de> for JsonParams {
    fn deserialize<De: serde::Deserializer<'de>>(d: De) -> Result<Self, De::Error> {
        struct Visit;
        impl<'de> serde::de::Visitor<'de> for Visit {
            type Value = JsonParams;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a JSON object whose values are strings")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<JsonParams, A::Error> {
                let mut pairs = Vec::new();
                while let Some(entry) = map.next_entry::<String, Option<String>>()? {
                    if pairs.len() >= MAX_PARAMS {
                        return Err(serde::de::Error::custom("too many parameters"));
                    }
                    pairs.push(entry);
                }
                Ok(JsonParams(pairs))
            }
        }
        d.deserialize_map(Visit)
    }
}

/// The extractor of the protocol endpoints: [`Params`], with `D` documenting
/// the body in the OpenAPI document.
pub struct OAuthParams<D> {
    params: Params,
    _doc: PhantomData<D>,
}

impl<D> Deref for OAuthParams<D> {
    type Target = Params;
    fn deref(&self) -> &Params {
        &self.params
    }
}

impl<'a, D: Type> ApiExtractor<'a> for OAuthParams<D> {
    const TYPES: &'static [ApiExtractorType] = &[ApiExtractorType::RequestObject];
    type ParamType = ();
    type ParamRawType = ();

    fn register(registry: &mut Registry) {
        D::register(registry);
    }

    fn request_meta() -> Option<MetaRequest> {
        Some(MetaRequest {
            description: Some(
                "Parameters as a form (RFC 6749), as a JSON object, or in the query string.",
            ),
            content: vec![
                MetaMediaType {
                    content_type: "application/x-www-form-urlencoded",
                    schema: D::schema_ref(),
                },
                MetaMediaType {
                    content_type: "application/json",
                    schema: D::schema_ref(),
                },
            ],
            required: false,
        })
    }

    async fn from_request(
        req: &'a Request,
        body: &mut RequestBody,
        _param_opts: ExtractParamOptions<Self::ParamType>,
    ) -> poem::Result<Self> {
        let bytes = match body.take() {
            Ok(b) => b.into_bytes().await?,
            Err(_) => Default::default(),
        };
        let content_type = req
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok());
        let params = Params::read(req.uri().query().unwrap_or(""), content_type, &bytes)
            .map_err(|e| ApiError::<TokenEndpoint>::from(Error::OAuth(e.into())))?;
        Ok(OAuthParams {
            params,
            _doc: PhantomData,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(query: &str, ct: Option<&str>, body: &str) -> Result<Vec<(String, String)>, String> {
        Params::read(query, ct, body.as_bytes())
            .map(|p| p.pairs)
            .map_err(|e| e.to_string())
    }

    const FORM: Option<&str> = Some("application/x-www-form-urlencoded; charset=UTF-8");

    #[test]
    fn three_encodings() {
        let want = vec![
            ("grant_type".to_string(), "client_credentials".to_string()),
            ("scope".to_string(), "a b".to_string()),
        ];
        assert_eq!(
            parse("", FORM, "grant_type=client_credentials&scope=a+b").unwrap(),
            want
        );
        assert_eq!(
            parse(
                "",
                Some("application/json"),
                r#"{"grant_type":"client_credentials","scope":"a b"}"#
            )
            .unwrap(),
            want
        );
        assert_eq!(
            parse("grant_type=client_credentials&scope=a%20b", None, "").unwrap(),
            want
        );
        assert_eq!(
            parse("grant_type=client_credentials", FORM, "scope=a+b").unwrap(),
            want,
            "query and body combine"
        );
    }

    #[test]
    fn repeats_and_bad_bodies_are_refused() {
        assert!(parse("", FORM, "scope=a&scope=b")
            .unwrap_err()
            .contains("more than once"));
        assert!(parse("scope=a", FORM, "scope=b")
            .unwrap_err()
            .contains("more than once"));
        assert!(parse("scope=a", Some("application/json"), r#"{"scope":"b"}"#).is_err());
        assert!(parse("", Some("application/json"), "[1]").is_err());
        assert!(parse("", Some("application/json"), r#"{"scope":1}"#).is_err());
        assert!(parse("", Some("application/json"), "{").is_err());
        assert!(
            parse("", Some("application/json"), r#"{"scope":"a","scope":"b"}"#)
                .unwrap_err()
                .contains("more than once")
        );
        assert!(parse("", Some("text/plain"), "grant_type=x").is_err());
        assert!(parse("", None, "grant_type=x").is_err());
    }

    #[test]
    fn empty_values_are_omitted() {
        assert_eq!(parse("", FORM, "scope=&grant_type=x").unwrap().len(), 1);
        assert_eq!(
            parse(
                "",
                Some("application/json"),
                r#"{"scope":null,"grant_type":"x"}"#
            )
            .unwrap()
            .len(),
            1
        );
        // An empty value still counts as given: repeating it is refused.
        assert!(parse("", FORM, "scope=&scope=a").is_err());
    }

    #[test]
    fn the_parameter_cap_holds_for_every_encoding() {
        let many: Vec<String> = (0..=MAX_PARAMS).map(|i| format!("p{i}=v")).collect();
        assert_eq!(
            Params::from_query(&many.join("&")).unwrap_err(),
            ParamError::TooMany
        );
        assert_eq!(
            Params::from_form(many.join("&").as_bytes()).unwrap_err(),
            ParamError::TooMany
        );
        let json: Vec<String> = (0..=MAX_PARAMS)
            .map(|i| format!("\"p{i}\":\"v\""))
            .collect();
        assert!(parse(
            "",
            Some("application/json"),
            &format!("{{{}}}", json.join(","))
        )
        .unwrap_err()
        .contains("too many parameters"));
        assert!(Params::from_query(&many[..MAX_PARAMS].join("&")).is_ok());
    }

    #[test]
    fn pages_get_their_own_sentences() {
        assert_eq!(
            Params::from_query("a=1&a=2").unwrap_err().page_sentence(),
            "The parameter \"a\" is given more than once."
        );
        assert!(Params::from_form(b"a=1&b=2").is_ok());
    }
}
