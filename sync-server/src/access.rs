//! The access table: which grant may read, write (push) or delete which scope.
//!
//! | scope           | read                                        | write (push)                          | delete            |
//! |-----------------|---------------------------------------------|---------------------------------------|-------------------|
//! | `directory`     | coordinator, worker, supporter              | coordinator                           | nobody            |
//! | `site:<s>`      | coordinator, kiosk bound to s               | coordinator                           | coordinator       |
//! | `timesheet:<p>` | coordinator, worker p                       | coordinator, worker p, any kiosk      | coordinator       |
//! | `review:<p>`    | coordinator, worker p                       | coordinator                           | coordinator       |
//! | `records:<p>`   | coordinator, worker p                       | coordinator                           | coordinator       |
//! | `notes:<p>`     | worker p, supporter of p, coordinator if p consented | worker p, supporter of p     | worker p, supporter of p |
//!
//! The table itself lives in `logbook-protocol` ([`may_read`], [`may_write`],
//! [`may_delete`], [`may_set_consent`]) so the relay and the client core share one
//! definition; this module adds what only the relay needs: the read filter that turns a
//! grant into one SQL condition, and grant validation for new join codes. The table is
//! tested cell by cell below, because the relay is where it is enforced.

use logbook_protocol::{Grant, Role, Scope};
pub use logbook_protocol::{may_delete, may_read, may_set_consent, may_write};

/// The scopes a device may read, in the shape the store turns into one SQL condition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadFilter {
    /// Every scope except `notes:*`, plus the `notes:<p>` scopes listed (a coordinator:
    /// the people who consented).
    AllButNotes { notes: Vec<String> },
    /// Exactly these scopes (worker, supporter, kiosk, or a single-scope pull).
    Only(Vec<String>),
}

/// What a device may read: the filter for the log query and the people whose notes it
/// may read (`PullResponse::notes_readable`). `consented` lists the coop's people who
/// allowed coordinators to read their notes.
pub fn read_filter(grant: &Grant, consented: &[String]) -> (ReadFilter, Vec<String>) {
    let scopes = |people: &[String], kinds: &[fn(String) -> Scope]| -> Vec<String> {
        people
            .iter()
            .flat_map(|p| kinds.iter().map(move |k| k(p.clone()).to_string()))
            .collect()
    };
    match grant.role {
        Role::Coordinator => {
            let notes = scopes(consented, &[Scope::Notes]);
            (ReadFilter::AllButNotes { notes }, consented.to_vec())
        }
        Role::Worker => {
            let person: Vec<String> = grant.person.iter().cloned().collect();
            let mut only = vec![Scope::Directory.to_string()];
            only.extend(scopes(
                &person,
                &[
                    Scope::Timesheet,
                    Scope::Review,
                    Scope::Records,
                    Scope::Notes,
                ],
            ));
            (ReadFilter::Only(only), person)
        }
        Role::Supporter => {
            let mut only = vec![Scope::Directory.to_string()];
            only.extend(scopes(&grant.supports, &[Scope::Notes]));
            (ReadFilter::Only(only), grant.supports.clone())
        }
        Role::Kiosk => {
            let only = grant
                .site
                .iter()
                .map(|s| Scope::Site(s.clone()).to_string())
                .collect();
            (ReadFilter::Only(only), Vec::new())
        }
    }
}

/// Grant validation for new join codes lives in `logbook-protocol`, shared with the
/// clients that ask for codes.
pub use logbook_protocol::validate_invite_grant as validate_grant;

#[cfg(test)]
mod tests {
    use super::*;

    fn grant(role: Role, person: Option<&str>, site: Option<&str>, supports: &[&str]) -> Grant {
        Grant {
            role,
            person: person.map(str::to_string),
            site: site.map(str::to_string),
            supports: supports.iter().map(|s| s.to_string()).collect(),
        }
    }

    fn scope(s: &str) -> Scope {
        Scope::parse(s).expect("valid scope")
    }

    #[test]
    fn the_access_table_holds_cell_by_cell() {
        let coord = grant(Role::Coordinator, None, None, &[]);
        let ann = grant(Role::Worker, Some("ann"), None, &[]);
        let sup = grant(Role::Supporter, None, None, &["ann"]);
        let kiosk = grant(Role::Kiosk, None, Some("cafe"), &[]);

        // (grant, scope, read, write, delete)
        let rows: Vec<(&Grant, &str, bool, bool, bool)> = vec![
            (&coord, "directory", true, true, false),
            (&ann, "directory", true, false, false),
            (&sup, "directory", true, false, false),
            (&kiosk, "directory", false, false, false),
            (&coord, "site:cafe", true, true, true),
            (&kiosk, "site:cafe", true, false, false),
            (&kiosk, "site:bakery", false, false, false),
            (&ann, "site:cafe", false, false, false),
            (&coord, "timesheet:ann", true, true, true),
            (&ann, "timesheet:ann", true, true, false),
            (&ann, "timesheet:bob", false, false, false),
            (&kiosk, "timesheet:ann", false, true, false),
            (&sup, "timesheet:ann", false, false, false),
            (&coord, "review:ann", true, true, true),
            (&ann, "review:ann", true, false, false),
            (&kiosk, "review:ann", false, false, false),
            (&coord, "records:ann", true, true, true),
            (&ann, "records:ann", true, false, false),
            (&sup, "records:ann", false, false, false),
            (&coord, "notes:ann", false, false, false),
            (&ann, "notes:ann", true, true, true),
            (&ann, "notes:bob", false, false, false),
            (&sup, "notes:ann", true, true, true),
            (&sup, "notes:bob", false, false, false),
            (&kiosk, "notes:ann", false, false, false),
        ];
        for (g, s, r, w, d) in rows {
            let sc = scope(s);
            assert_eq!(may_read(g, &sc, false), r, "read {:?} {s}", g.role);
            assert_eq!(may_write(g, &sc), w, "write {:?} {s}", g.role);
            assert_eq!(may_delete(g, &sc), d, "delete {:?} {s}", g.role);
        }
        // Consent opens notes to coordinators for reading only.
        assert!(may_read(&coord, &scope("notes:ann"), true));
        assert!(!may_write(&coord, &scope("notes:ann")));
        assert!(!may_read(&kiosk, &scope("notes:ann"), true));
        // Consent is the person's (or their supporter's) to give.
        assert!(may_set_consent(&ann, "ann"));
        assert!(may_set_consent(&sup, "ann"));
        assert!(!may_set_consent(&coord, "ann"));
        assert!(!may_set_consent(&kiosk, "ann"));
        assert!(!may_set_consent(&ann, "bob"));
    }

    #[test]
    fn read_filters_list_exactly_the_readable_scopes() {
        let consented = vec!["bob".to_string()];
        let (f, notes) = read_filter(&grant(Role::Coordinator, None, None, &[]), &consented);
        assert_eq!(
            f,
            ReadFilter::AllButNotes {
                notes: vec!["notes:bob".into()]
            }
        );
        assert_eq!(notes, consented);
        let (f, notes) = read_filter(&grant(Role::Worker, Some("ann"), None, &[]), &consented);
        assert_eq!(
            f,
            ReadFilter::Only(vec![
                "directory".into(),
                "timesheet:ann".into(),
                "review:ann".into(),
                "records:ann".into(),
                "notes:ann".into()
            ])
        );
        assert_eq!(notes, vec!["ann".to_string()]);
        let (f, _) = read_filter(&grant(Role::Kiosk, None, Some("cafe"), &[]), &consented);
        assert_eq!(f, ReadFilter::Only(vec!["site:cafe".into()]));
        let (f, notes) = read_filter(&grant(Role::Supporter, None, None, &["ann"]), &consented);
        assert_eq!(
            f,
            ReadFilter::Only(vec!["directory".into(), "notes:ann".into()])
        );
        assert_eq!(notes, vec!["ann".to_string()]);
    }

    #[test]
    fn incomplete_grants_are_refused() {
        assert!(validate_grant(&grant(Role::Worker, None, None, &[])).is_err());
        assert!(validate_grant(&grant(Role::Kiosk, None, None, &[])).is_err());
        assert!(validate_grant(&grant(Role::Supporter, None, None, &[])).is_err());
        assert!(validate_grant(&grant(Role::Worker, Some("a b"), None, &[])).is_err());
        assert!(validate_grant(&grant(Role::Supporter, None, None, &["ok", ""])).is_err());
        assert!(validate_grant(&grant(Role::Worker, Some("ann"), None, &[])).is_ok());
        assert!(validate_grant(&grant(Role::Coordinator, None, None, &[])).is_ok());
    }
}
