pub mod postgres;
pub mod mysql;
