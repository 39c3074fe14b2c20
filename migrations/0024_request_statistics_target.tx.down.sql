ALTER STATISTICS requests_agency_status_category SET STATISTICS -1;
