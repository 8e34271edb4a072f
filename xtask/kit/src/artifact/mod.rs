//! What the kit ships: the checked binary ([`elf`]), the deployment zip ([`lambda_zip`]), the
//! [`package`] that carries both, and the OCI image ([`oci`]).

pub mod elf;
pub mod lambda_zip;
pub mod oci;
pub mod package;
