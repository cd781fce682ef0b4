//! Numeric server replies (`911 4`): codes and their meaning (docs/protocol.md §1.5).

/// A numeric reply `NNN [<trid>]` that replaced the normal reply of the command with that TrID.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ServerError {
    /// The three-digit code.
    pub code: u16,
    /// The TrID of the failed command, when the server gave one.
    pub trid: Option<u32>,
}

impl ServerError {
    /// 200: invalid syntax.
    pub const INVALID_SYNTAX: u16 = 200;
    /// 201: invalid parameter.
    pub const INVALID_PARAMETER: u16 = 201;
    /// 205: invalid principal (unknown user), before MSNP10.
    pub const INVALID_USER: u16 = 205;
    /// 207: already logged in.
    pub const ALREADY_LOGGED_IN: u16 = 207;
    /// 208: invalid principal (MSNP10+), invalid user name on `CAL`.
    pub const INVALID_PRINCIPAL: u16 = 208;
    /// 210: list full.
    pub const LIST_FULL: u16 = 210;
    /// 215: principal already on list (or already in the switchboard).
    pub const ALREADY_ON_LIST: u16 = 215;
    /// 216: principal not on list.
    pub const NOT_ON_LIST: u16 = 216;
    /// 217: principal not online.
    pub const NOT_ONLINE: u16 = 217;
    /// 218: already in that mode.
    pub const ALREADY_IN_MODE: u16 = 218;
    /// 219: principal is on the opposite list.
    pub const ON_OPPOSITE_LIST: u16 = 219;
    /// 228: group already exists.
    pub const GROUP_EXISTS: u16 = 228;
    /// 229: group name too long.
    pub const GROUP_NAME_TOO_LONG: u16 = 229;
    /// 241: invalid ADL/RML/FQY XML.
    pub const INVALID_LIST_XML: u16 = 241;
    /// 500: internal server error / service unavailable.
    pub const INTERNAL_ERROR: u16 = 500;
    /// 502: command disabled.
    pub const COMMAND_DISABLED: u16 = 502;
    /// 540: challenge response failed.
    pub const CHALLENGE_FAILED: u16 = 540;
    /// 600: server busy.
    pub const SERVER_BUSY: u16 = 600;
    /// 715: not expected in this state.
    pub const NOT_EXPECTED: u16 = 715;
    /// 800: changing too rapidly.
    pub const TOO_RAPID: u16 = 800;
    /// 911: authentication failed.
    pub const AUTH_FAILED: u16 = 911;
    /// 913: not allowed while offline or invisible.
    pub const NOT_ALLOWED_OFFLINE: u16 = 913;

    /// What the code means, per docs/protocol.md §1.5; codes not listed there are "unknown error".
    pub fn description(&self) -> &'static str {
        match self.code {
            200 => "invalid syntax",
            201 => "invalid parameter",
            203 => "invalid federated user",
            204 => "invalid network id / unroutable user",
            205 => "invalid principal (unknown user)",
            206 => "domain name missing",
            207 => "already logged in",
            208 => "invalid principal",
            209 => "nickname change illegal",
            210 => "list full",
            213 => "invalid rename request",
            215 => "principal already on list",
            216 => "principal not on list",
            217 => "principal not online",
            218 => "already in that mode",
            219 => "principal is on the opposite list",
            223 => "too many groups",
            224 => "invalid group",
            225 => "principal not in group",
            227 => "group not empty",
            228 => "group already exists",
            229 => "group name too long",
            230 => "cannot remove group 0",
            231 => "group does not exist",
            240 => "empty domain in list XML",
            241 => "invalid list XML",
            280 => "switchboard failed",
            281 => "notify transfer failed",
            300 => "required field missing",
            302 => "not logged in",
            402 | 403 => "error accessing contact list",
            500 => "internal server error",
            501 => "database server error",
            502 => "command disabled",
            510 => "file operation failed",
            520 => "memory allocation failed",
            540 => "challenge response failed",
            600 => "server busy",
            601 | 605 => "server unavailable",
            602 => "peer notification server down",
            603 => "database connection failed",
            604 => "server going down",
            707 => "could not create connection",
            710 => "bad CVR parameters",
            711 => "write is blocking",
            712 => "session overload",
            713 => "calling too rapidly",
            714 => "too many sessions",
            715 => "not expected",
            717 => "bad friend file",
            731 => "not expected (CVR)",
            800 => "changing too rapidly",
            910 | 912 | 918 | 919 | 921 | 922 => "server too busy",
            911 | 917 => "authentication failed",
            913 => "not allowed while offline or invisible",
            914..=916 => "server unavailable",
            920 => "not accepting new principals",
            923 => "kids passport without parental consent",
            924 => "passport account not yet verified",
            927 => "account suspended",
            928 => "bad ticket",
            931 => "account not on this server",
            933 => "invalid circle membership",
            _ => "unknown error",
        }
    }

    /// Whether the code is a server-side condition worth retrying later (500, 6xx).
    pub fn is_transient(&self) -> bool {
        self.code == 500 || (600..700).contains(&self.code)
    }

    /// Whether the code ends a login attempt (any 9xx).
    pub fn is_fatal_during_login(&self) -> bool {
        (900..1000).contains(&self.code)
    }
}

#[cfg(test)]
mod tests {
    use super::ServerError;

    fn err(code: u16) -> ServerError {
        ServerError {
            code,
            trid: Some(4),
        }
    }

    #[test]
    fn describes_known_codes() {
        assert_eq!(
            err(ServerError::AUTH_FAILED).description(),
            "authentication failed"
        );
        assert_eq!(
            err(ServerError::COMMAND_DISABLED).description(),
            "command disabled"
        );
        assert_eq!(err(217).description(), "principal not online");
        assert_eq!(err(915).description(), "server unavailable");
        assert_eq!(err(999).description(), "unknown error");
    }

    #[test]
    fn classifies_codes() {
        assert!(err(911).is_fatal_during_login() && !err(911).is_transient());
        assert!(err(500).is_transient() && err(604).is_transient());
        assert!(!err(715).is_transient() && !err(715).is_fatal_during_login());
    }
}
