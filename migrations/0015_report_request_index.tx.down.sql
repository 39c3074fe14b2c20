DROP INDEX requests_report_id_idx;
