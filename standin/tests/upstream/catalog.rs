//! The REST APIs as upstream declares them: each API's paths, methods and query parameters,
//! the union of the JSON REST specs (`opensearch-rest-tests/api/*.json`) and the OpenAPI spec
//! (`opensearch-api-spec/spec/`, operations grouped by `x-operation-group`).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde_json::Value;

/// One URL form of an API.
#[derive(Debug, Clone)]
pub struct UrlForm {
    /// `/_snapshot/{repository}/{snapshot}`.
    pub template: String,
    pub methods: Vec<String>,
}

impl UrlForm {
    /// The `{part}` names in the template.
    pub fn parts(&self) -> Vec<&str> {
        self.template
            .split('/')
            .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
            .collect()
    }

    /// Whether a path (split in segments; a `{part}` stands for any value) fits this
    /// template.
    pub fn fits(&self, segments: &[&str]) -> bool {
        let template: Vec<&str> = self.template.split('/').filter(|s| !s.is_empty()).collect();
        template.len() == segments.len()
            && template
                .iter()
                .zip(segments)
                .all(|(t, s)| t.starts_with('{') || t == s)
    }
}

/// An API: its URL forms and the query parameters it declares.
#[derive(Debug, Clone, Default)]
pub struct Api {
    pub forms: Vec<UrlForm>,
    pub params: BTreeSet<String>,
    /// Where it was declared (`api/snapshot.create.json` or `spec/namespaces/cat.yaml`).
    pub source: String,
}

/// Every API either source declares, by name (`snapshot.create`).
#[derive(Debug, Default)]
pub struct Catalog {
    pub apis: BTreeMap<String, Api>,
    /// Parameters every API takes (`pretty`, `human`, …; OpenAPI `_global_parameters.yaml`).
    pub global_params: BTreeSet<String>,
}

pub fn read_yaml(path: &Path) -> Result<Value, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    serde_norway::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
}

impl Catalog {
    pub fn load(rest_tests: &Path, api_spec: &Path) -> Result<Self, String> {
        let mut catalog = Catalog::default();
        catalog.load_json_specs(&rest_tests.join("api"))?;
        catalog.load_openapi(&api_spec.join("spec"))?;
        Ok(catalog)
    }

    fn load_json_specs(&mut self, dir: &Path) -> Result<(), String> {
        let mut files: Vec<_> = std::fs::read_dir(dir)
            .map_err(|e| format!("{}: {e}", dir.display()))?
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
            .collect();
        files.sort();
        for file in files {
            let text =
                std::fs::read_to_string(&file).map_err(|e| format!("{}: {e}", file.display()))?;
            let spec: Value =
                serde_json::from_str(&text).map_err(|e| format!("{}: {e}", file.display()))?;
            let Some((name, body)) = spec.as_object().and_then(|o| o.iter().next()) else {
                return Err(format!("{}: not one API", file.display()));
            };
            let mut api = Api {
                source: format!("api/{}", file_name(&file)),
                ..Api::default()
            };
            for path in body["url"]["paths"].as_array().into_iter().flatten() {
                api.forms.push(UrlForm {
                    template: path["path"].as_str().unwrap_or_default().to_owned(),
                    methods: strings(&path["methods"]),
                });
            }
            if let Some(params) = body["params"].as_object() {
                api.params.extend(params.keys().cloned());
            }
            self.apis.insert(name.clone(), api);
        }
        Ok(())
    }

    /// Adds the OpenAPI operations of APIs the JSON specs do not declare.
    fn load_openapi(&mut self, spec: &Path) -> Result<(), String> {
        let global = read_yaml(&spec.join("_global_parameters.yaml"))?;
        for parameter in global["components"]["parameters"]
            .as_object()
            .into_iter()
            .flat_map(|o| o.values())
        {
            if let Some(name) = parameter["name"].as_str() {
                self.global_params.insert(name.to_owned());
            }
        }
        let dir = spec.join("namespaces");
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .map_err(|e| format!("{}: {e}", dir.display()))?
            .filter_map(Result::ok)
            .map(|e| e.path())
            .collect();
        files.sort();
        let mut from_openapi: BTreeMap<String, Api> = BTreeMap::new();
        for file in files {
            let doc = read_yaml(&file)?;
            let components = &doc["components"]["parameters"];
            for (template, operations) in doc["paths"].as_object().into_iter().flatten() {
                for (method, operation) in operations.as_object().into_iter().flatten() {
                    let Some(group) = operation["x-operation-group"].as_str() else {
                        continue;
                    };
                    let api = from_openapi.entry(group.to_owned()).or_insert_with(|| Api {
                        source: format!("spec/namespaces/{}", file_name(&file)),
                        ..Api::default()
                    });
                    let method = method.to_ascii_uppercase();
                    match api.forms.iter_mut().find(|f| f.template == *template) {
                        Some(form) => form.methods.push(method),
                        None => api.forms.push(UrlForm {
                            template: template.clone(),
                            methods: vec![method],
                        }),
                    }
                    for reference in operation["parameters"].as_array().into_iter().flatten() {
                        let Some(key) = reference["$ref"]
                            .as_str()
                            .and_then(|r| r.strip_prefix("#/components/parameters/"))
                        else {
                            continue;
                        };
                        let parameter = &components[key];
                        if parameter["in"] == "query"
                            && let Some(name) = parameter["name"].as_str()
                        {
                            api.params.insert(name.to_owned());
                        }
                    }
                }
            }
        }
        // Either source may declare a form or parameter the other lacks (the JSON copies are
        // of several ages): an API has the union.
        for (name, api) in from_openapi {
            match self.apis.get_mut(&name) {
                None => {
                    self.apis.insert(name, api);
                }
                Some(known) => {
                    known.params.extend(api.params);
                    for form in api.forms {
                        if !known.forms.iter().any(|f| f.template == form.template) {
                            known.forms.push(form);
                        }
                    }
                    known.source = format!("{} and {}", known.source, api.source);
                }
            }
        }
        Ok(())
    }
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

pub fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_str().map(str::to_owned))
        .collect()
}
